"""Accounts, transfers and treasury credits on the trading service."""

import pytest

from apps.trading.models import Entry
from tests.accounts import factories as accounts_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def test_an_admin_credits_a_client_from_the_treasury(api):
    _, admin = accounts_factories.principal("admin")
    client, client_key = accounts_factories.principal("client")
    credited = api("trading", admin).post("/v1/ledger/credits", {"principal_id": str(client.id), "amount": "12.5"})
    assert credited.status_code == 201
    me = api("trading", client_key).get("/v1/accounts/me").json()
    assert me == {"principal_id": str(client.id), "balance": "12.50000000", "held": "0.00000000",
                  "available": "12.50000000", "currency": "AIT"}  # fmt: skip
    entries = api("trading", client_key).get("/v1/accounts/me/entries").json()
    assert (entries["count"], entries["items"][0]["amount"], entries["items"][0]["kind"]) == (
        1,
        "12.50000000",
        "credit",
    )


def test_only_an_admin_may_credit(api):
    client, client_key = accounts_factories.principal("client")
    response = api("trading", client_key).post("/v1/ledger/credits", {"principal_id": str(client.id), "amount": "1"})
    assert response.status_code == 403


def test_a_transfer_moves_money_once_per_idempotency_key(api):
    sender, sender_key = trading_factories.funded_client("10")
    receiver, receiver_key = accounts_factories.principal("client")
    body = {"to_principal_id": str(receiver.id), "amount": "3"}
    headers = {"Idempotency-Key": "t-1"}
    for _ in range(2):
        response = api("trading", sender_key).post("/v1/transfers", body, headers=headers)
        assert response.status_code == 201
    assert api("trading", receiver_key).get("/v1/accounts/me").json()["balance"] == "3.00000000"
    other = api("trading", sender_key).post("/v1/transfers", {**body, "amount": "4"}, headers=headers)
    assert other.status_code == 409


@pytest.mark.parametrize(
    ("amount", "status"), [("100", 402), ("0", 422), ("-1", 422), ("1.000000001", 422), ("lots", 422)]
)
def test_a_bad_or_unaffordable_transfer_changes_nothing(api, amount, status):
    sender, sender_key = trading_factories.funded_client("10")
    receiver, _ = accounts_factories.principal("client")
    response = api("trading", sender_key).post("/v1/transfers", {"to_principal_id": str(receiver.id), "amount": amount})
    assert response.status_code == status
    assert Entry.objects.filter(kind="transfer").count() == 0


def test_a_transfer_to_an_unknown_principal_is_422(api):
    _, sender_key = trading_factories.funded_client("10")
    response = api("trading", sender_key).post(
        "/v1/transfers", {"to_principal_id": "00000000-0000-0000-0000-000000000000", "amount": "1"}
    )
    assert response.status_code == 422


def test_the_published_keys_and_the_ledger_check(api):
    keys = api("trading").get("/v1/explorer/keys").json()["keys"]
    assert keys[0]["alg"] == "Ed25519" and keys[0]["key_id"].startswith("ed25519-")
    _, admin = accounts_factories.principal("admin")
    check = api("trading", admin).get("/v1/ledger/check").json()
    assert check["ok"] is True and check["total"] == check["supply"] == "1000000000.00000000"
