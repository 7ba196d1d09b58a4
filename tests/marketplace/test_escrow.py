"""A bid's escrow through rounding, canceling with a fill not yet funded, retries and crashes part-way."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.gpu.bookings import bookings_settle_due
from apps.gpu.models import GpuBooking
from apps.marketplace.engine import books_match_all
from apps.marketplace.models import Fill
from apps.trading.facade import account_balances
from apps.trading.models import Hold
from tests import factories
from tests.marketplace.test_market import Trader, bid, offer, seller

pytestmark = pytest.mark.django_db(databases="__all__")
BID = {"gpu_model": "H100", "min_gpu_memory_gb": 80, "gpu_count": 1, "max_price_per_hour": "2.00", "hours": "1"}


@pytest.fixture
def http(service_client):
    return service_client("marketplace")


@pytest.fixture
def client(http):
    return Trader(http, *factories.funded_client("1000"))


def test_two_fills_rounded_down_fit_in_the_bid_s_hold_rounded_up(http, client):
    # given a resting bid of 1.00 h at 1.00000003/h, then two 0.50 h offers that fill it at its price
    placed = bid(client, "1.00000003", hours="1.00").json()
    offer(seller(http), "1.00", hours="0.50")
    offer(seller(http), "1.00", hours="0.50")
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
