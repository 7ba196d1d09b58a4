"""Idempotency-Key on the POSTs that create work or move money: replayed, never done twice."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.accounts.models import IdempotencyRecord
from apps.marketplace.models import Bid
from apps.trading.facade import account_balances
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")
BID = {"gpu_model": "H100", "gpu_count": 1, "max_price_per_hour": "1", "hours": "3"}


def post(api, key, body, idempotency_key):
    return api("marketplace", key).post("/v1/bids", body, headers={"Idempotency-Key": idempotency_key})


def test_the_same_key_and_body_get_the_first_answer_and_hold_once(api):
    buyer, key = trading_factories.funded_client("10")
    first = post(api, key, BID, "bid-1")
    again = post(api, key, BID, "bid-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["bid_id"] == first.json()["bid_id"]
    assert Bid.objects.count() == 1
    assert account_balances(buyer.id)["held"] == Decimal(3)


def test_the_same_key_with_another_body_is_409_and_changes_nothing(api):
    buyer, key = trading_factories.funded_client("10")
    post(api, key, BID, "bid-1")
    other = post(api, key, {**BID, "hours": "4"}, "bid-1")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_conflict")
    assert Bid.objects.count() == 1


def test_a_refused_request_can_be_sent_again_with_the_same_key(api):
    buyer, key = trading_factories.funded_client("1")
    assert post(api, key, BID, "bid-2").status_code == 402
    assert IdempotencyRecord.objects.count() == 0
    trading_factories.treasury_credit_to(buyer.id, "10")
    assert post(api, key, BID, "bid-2").status_code == 201


def test_keys_belong_to_their_principal(api):
    _, alice = trading_factories.funded_client("10")
    _, bob = trading_factories.funded_client("10")
    assert post(api, alice, BID, "same").json()["bid_id"] != post(api, bob, BID, "same").json()["bid_id"]


def test_a_key_whose_first_request_died_mid_way_can_be_retried_once_it_is_clearly_abandoned(api):
    buyer, key = trading_factories.funded_client("10")
    first = post(api, key, BID, "bid-crashed")
    assert first.status_code == 201
    # as if its process had died after the bid and its hold, before the answer was stored
    died = IdempotencyRecord.objects.filter(principal_id=buyer.id, key="bid-crashed")
    died.update(status=None, body=None)
    running = post(api, key, BID, "bid-crashed")
    assert (running.status_code, running.json()["code"]) == (409, "idempotency_in_progress")
    died.update(created_at=timezone.now() - timedelta(hours=1))
    retried = post(api, key, BID, "bid-crashed")
    assert retried.status_code == 201, retried.content
    assert retried.json()["bid_id"] == first.json()["bid_id"]
    assert post(api, key, BID, "bid-crashed").json() == retried.json()
    assert Bid.objects.count() == 1
    assert account_balances(buyer.id)["held"] == Decimal(3)
