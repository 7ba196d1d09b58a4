"""Money for tests: treasury credits, and clients that hold some, through the ledger's own services."""

import uuid
from decimal import Decimal

from apps.trading.services.ledger import treasury_credit
from tests.accounts.factories import principal


def treasury_credit_to(principal_id, amount: str) -> None:
    treasury_credit(to_owner=principal_id, amount=Decimal(amount), key=f"test-credit:{principal_id}:{uuid.uuid4()}")


def funded_client(amount: str = "100"):
    client, key = principal("client")
    treasury_credit(to_owner=client.id, amount=Decimal(amount), key=f"test-credit:{client.id}")
    return client, key
