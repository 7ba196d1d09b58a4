"""A bid's escrow through rounding, canceling with a fill not yet funded, retries and crashes part-way."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.utils import timezone

from aitbc_site.errors import Conflict
from apps.gpu.models import GpuBooking
from apps.gpu.services.bookings import bookings_settle_due
from apps.marketplace import engine, services
from apps.marketplace.models import Bid, Fill
from apps.marketplace.services import books_match_all
from apps.marketplace.tasks import match_books
from apps.trading.facade import account_balances
from apps.trading.models import Hold
from apps.trading.services.ledger import hold_place
from tests.marketplace.helpers import bid, offer, seller

pytestmark = pytest.mark.django_db(databases="__all__")
BID = {"gpu_model": "H100", "min_gpu_memory_gb": 80, "gpu_count": 1, "max_price_per_hour": "2.00", "hours": "1"}


def test_two_fills_rounded_down_fit_in_the_bid_s_hold_rounded_up(api, client):
    # given a resting bid of 1.00 h at 1.00000003/h, then two 0.50 h offers that fill it at its price
    placed = bid(client, "1.00000003", hours="1.00").json()
    offer(seller(api), "1.00", hours="0.50")
    offer(seller(api), "1.00", hours="0.50")
    books_match_all()
    # then each fill costs 0.500000015 rounded down, both are booked and the unused 0.00000001 goes back
    fills = Fill.objects.filter(bid_id=placed["bid_id"])
    assert list(fills.values_list("status", "amount")) == [("BOOKED", Decimal("0.50000001"))] * 2
    assert Hold.objects.get(key=f"bid:{placed['bid_id']}").status == "RELEASED"
    assert account_balances(client.id)["held"] == Decimal("1.00000002")
    # and the bookings are paid in full from the fills' holds
    GpuBooking.objects.update(ends_at=timezone.now() - timedelta(seconds=1))
    assert bookings_settle_due() == 2
    assert account_balances(client.id)["balance"] == Decimal(1000) - 2 * Decimal("0.50000001")
    assert account_balances(client.id)["held"] == 0


def _ledger_busy(**kwargs):
    raise Conflict("the ledger is busy")


def test_a_bid_canceled_with_a_fill_not_yet_funded_keeps_its_hold_until_the_fill_is_booked(api, client, monkeypatch):
    # given a 3 h fill of a 5 h bid that cannot take its part of the bid's hold yet
    monkeypatch.setattr(engine, "escrow_move", _ledger_busy)
    offer(seller(api), "1.00", hours="3")
    placed = bid(client, "2.00", hours="5").json()
    fill = Fill.objects.get(bid_id=placed["bid_id"])
    # when the client cancels the bid while the fill is still pending
    assert client.delete(f"/v1/bids/{placed['bid_id']}").json()["status"] == "CANCELED"
    bid_hold = Hold.objects.get(key=f"bid:{placed['bid_id']}")
    assert (bid_hold.status, bid_hold.amount) == ("HELD", Decimal(10))  # still funds the pending fill
    # then once the ledger answers again, the periodic run books the fill and gives back the rest
    monkeypatch.undo()
    books_match_all()
    fill.refresh_from_db()
    bid_hold.refresh_from_db()
    assert (fill.status, fill.amount) == ("BOOKED", Decimal(3))
    assert (bid_hold.status, bid_hold.amount) == ("RELEASED", Decimal(7))
    assert Hold.objects.get(key=f"fill:{fill.id}").amount == Decimal(3)
    assert account_balances(client.id)["held"] == Decimal(3)


def _database_lost(gpu_class):
    raise OperationalError("server closed the connection unexpectedly")


def test_a_bid_retried_with_its_idempotency_key_after_failing_part_way_is_placed_once(client, monkeypatch):
    headers = {"Idempotency-Key": "bid-once"}
    # given a first try that held the money and wrote the bid, then lost the database while matching
    monkeypatch.setattr(services, "book_match", _database_lost)
    first = client.http.post("/v1/bids", BID, headers=headers)
    assert first.status_code == 503
    # when the client retries with the same key and body
    monkeypatch.undo()
    retried = client.http.post("/v1/bids", BID, headers=headers)
    # then it gets the bid the first try wrote, with one hold
    assert retried.status_code == 201, retried.content
    assert list(Bid.objects.filter(client_id=client.id).values_list("id", flat=True)) == [
        uuid.UUID(retried.json()["bid_id"])
    ]
    held = Hold.objects.filter(account__owner_id=client.id, key__startswith="bid:", status="HELD")
    assert list(held.values_list("amount", flat=True)) == [Decimal(2)]
    assert account_balances(client.id)["held"] == Decimal(2)


def test_the_periodic_run_releases_a_bid_hold_that_no_bid_records_once_it_is_5_minutes_old(client):
    # given two bid holds whose bids were never written: one 6 minutes old, one 1 minute old
    stale = hold_place(owner_id=client.id, key=f"bid:{uuid.uuid4()}", amount=Decimal(1))
    recent = hold_place(owner_id=client.id, key=f"bid:{uuid.uuid4()}", amount=Decimal(1))
    Hold.objects.filter(id=stale.id).update(created_at=timezone.now() - timedelta(minutes=6))
    Hold.objects.filter(id=recent.id).update(created_at=timezone.now() - timedelta(minutes=1))
    # when the marketplace's periodic run goes
    match_books()
    # then only the old one is released: the young one may belong to a bid being written right now
    assert Hold.objects.get(id=stale.id).status == "RELEASED"
    assert Hold.objects.get(id=recent.id).status == "HELD"
    assert account_balances(client.id)["held"] == Decimal(1)
