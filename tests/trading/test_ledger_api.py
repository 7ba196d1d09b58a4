"""Accounts, transfers and treasury credits on the trading service."""

import pytest

from apps.trading.models import Entry
from tests import factories

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def trading(service_client):
    return service_client("trading")


def auth(key, **extra):
    return {"Authorization": f"Bearer {key}", **extra}


def test_an_admin_credits_a_client_from_the_treasury(trading):
    _, admin = factories.principal("admin")
    client, client_key = factories.principal("client")
    credited = trading.post("/v1/ledger/credits", {"principal_id": str(client.id), "amount": "12.5"},
                            content_type="application/json", headers=auth(admin))  # fmt: skip
    assert credited.status_code == 201
    me = trading.get("/v1/accounts/me", headers=auth(client_key)).json()
    assert me == {"principal_id": str(client.id), "balance": "12.50000000", "held": "0.00000000",
                  "available": "12.50000000", "currency": "AIT"}  # fmt: skip
    entries = trading.get("/v1/accounts/me/entries", headers=auth(client_key)).json()
    assert (entries["count"], entries["items"][0]["amount"], entries["items"][0]["kind"]) == (
        1,
        "12.50000000",
        "credit",
    )


def test_only_an_admin_may_credit(trading):
    client, client_key = factories.principal("client")
    response = trading.post("/v1/ledger/credits", {"principal_id": str(client.id), "amount": "1"},
                            content_type="application/json", headers=auth(client_key))  # fmt: skip
    assert response.status_code == 403


def test_a_transfer_moves_money_once_per_idempotency_key(trading):
    sender, sender_key = factories.funded_client("10")
    receiver, receiver_key = factories.principal("client")
    body = {"to_principal_id": str(receiver.id), "amount": "3"}
    headers = auth(sender_key, **{"Idempotency-Key": "t-1"})
    for _ in range(2):
        response = trading.post("/v1/transfers", body, content_type="application/json", headers=headers)
        assert response.status_code == 201
    assert trading.get("/v1/accounts/me", headers=auth(receiver_key)).json()["balance"] == "3.00000000"
    other = trading.post("/v1/transfers", {**body, "amount": "4"}, content_type="application/json", headers=headers)
    assert other.status_code == 409


@pytest.mark.parametrize(
    ("amount", "status"), [("100", 402), ("0", 422), ("-1", 422), ("1.000000001", 422), ("lots", 422)]
)
def test_a_bad_or_unaffordable_transfer_changes_nothing(trading, amount, status):
    sender, sender_key = factories.funded_client("10")
    receiver, _ = factories.principal("client")
    response = trading.post("/v1/transfers", {"to_principal_id": str(receiver.id), "amount": amount},
                            content_type="application/json", headers=auth(sender_key))  # fmt: skip
    assert response.status_code == status
    assert Entry.objects.filter(kind="transfer").count() == 0


def test_a_transfer_to_an_unknown_principal_is_422(trading):
    _, sender_key = factories.funded_client("10")
    response = trading.post("/v1/transfers", {"to_principal_id": "00000000-0000-0000-0000-000000000000", "amount": "1"},
                            content_type="application/json", headers=auth(sender_key))  # fmt: skip
    assert response.status_code == 422


def test_the_published_keys_and_the_ledger_check(trading):
    keys = trading.get("/v1/explorer/keys").json()["keys"]
    assert keys[0]["alg"] == "Ed25519" and keys[0]["key_id"].startswith("ed25519-")
    _, admin = factories.principal("admin")
    check = trading.get("/v1/ledger/check", headers=auth(admin)).json()
    assert check["ok"] is True and check["total"] == check["supply"] == "1000000000.00000000"
