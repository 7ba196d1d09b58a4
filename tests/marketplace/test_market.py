"""The GPU-hour order book over HTTP: price-time priority, partial fills, reasons, escrow, cancels."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.marketplace.engine import class_match, fills_complete
from apps.marketplace.models import Bid, Fill, Offer
from apps.trading.facade import account_balances
from tests.accounts import factories as accounts_factories
from tests.concurrency import at_once
from tests.gpu import factories as gpu_factories
from tests.marketplace.helpers import RTX_4090, Trader, bid, offer, seller
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_bid_above_two_offers_fills_best_price_first_across_both(api, client):
    dear, cheap = seller(api), seller(api)
    dear_offer = offer(dear, "1.50", hours="6")
    cheap_offer = offer(cheap, "1.00", hours="4")
    placed = bid(client, "2.00", hours="8")
    assert placed.status_code == 201
    view = placed.json()
    assert view["status"] == "FILLED"
    assert [(f["offer_id"], f["hours"], f["price_per_hour"]) for f in view["fills"]] == [
        (cheap_offer["offer_id"], "4.00000000", "1.00000000"),
        (dear_offer["offer_id"], "4.00000000", "1.50000000"),
    ]
    fills_total = Decimal("4") * 1 + Decimal("4") * Decimal("1.5")
    assert account_balances(client.id)["held"] == fills_total  # the escrow equals the fills
    book = client.get("/v1/orderbook", gpu_model="H100").json()
    assert [(a["offer_id"], a["remaining_hours"]) for a in book["asks"]] == [(dear_offer["offer_id"], "2.00000000")]
    assert book["bids"] == []
    assert all(f["status"] == "BOOKED" and f["booking_id"] for f in view["fills"])


def test_equal_prices_fill_the_older_offer_first(api, client):
    first, second = seller(api), seller(api)
    older = offer(first, "1.00", hours="5")
    offer(second, "1.00", hours="5")
    view = bid(client, "1.00", hours="3").json()
    assert [f["offer_id"] for f in view["fills"]] == [older["offer_id"]]


def test_a_resting_bid_is_filled_at_its_own_price_by_a_later_offer(api, client):
    resting = bid(client, "2.00", hours="2").json()
    assert resting["status"] == "OPEN"
    offer(seller(api), "1.20", hours="5")
    filled = client.get(f"/v1/bids/{resting['bid_id']}").json()
    assert filled["status"] == "FILLED"
    assert filled["fills"][0]["price_per_hour"] == "2.00000000"  # the resting order's price
    assert account_balances(client.id)["held"] == Decimal(4)


@pytest.mark.parametrize(
    ("bid_kwargs", "reason"),
    [
        ({"model": "A100"}, "gpu_model: no open offer of A100"),
        ({"memory": 96}, "memory: the H100 offers have at most 80 GB; you asked for at least 96 GB"),
        ({"count": 4}, "gpu_count: no H100 offer has 4 GPUs (at most 1)"),
        ({"region": "ap"}, "region: H100 offers are in eu; you asked for ap"),
        ({"max_price": "0.10"}, "price: best ask 1.50/h is above your 0.10/h"),
    ],
)
def test_a_bid_that_cannot_fill_says_why(api, client, bid_kwargs, reason):
    offer(seller(api), "1.50")
    kwargs = {"max_price": "2", **bid_kwargs}
    view = bid(client, kwargs.pop("max_price"), **kwargs).json()
    assert view["status"] == "OPEN"
    assert view["unmatched_reasons"] == [reason]
    assert view["fills"] == []


def test_a_partial_bid_holds_the_rest_and_cancel_releases_it(api, client):
    offer(seller(api), "1.00", hours="3")
    view = bid(client, "2.00", hours="5").json()
    assert (view["status"], view["remaining_hours"]) == ("PARTIAL", "2.00000000")
    assert account_balances(client.id)["held"] == Decimal(10)  # 3 for the fill, the rest of the bid until it ends
    canceled = client.delete(f"/v1/bids/{view['bid_id']}").json()
    assert canceled["status"] == "CANCELED"
    assert account_balances(client.id)["held"] == Decimal(3)  # only the booked fill stays in escrow
    again = client.delete(f"/v1/bids/{view['bid_id']}")
    assert (again.status_code, again.json()["code"]) == (409, "order_closed")


def test_cancel_at_every_status(api, client):
    open_bid = bid(client, "1.00").json()
    assert client.delete(f"/v1/bids/{open_bid['bid_id']}").json()["status"] == "CANCELED"
    offer(seller(api), "1.00", hours="10")
    filled = bid(client, "1.00", hours="2").json()
    assert filled["status"] == "FILLED"
    assert client.delete(f"/v1/bids/{filled['bid_id']}").status_code == 409
    assert account_balances(client.id)["held"] == Decimal(2)


def test_a_miner_withdraws_the_unfilled_rest_of_an_offer(api, client):
    miner = seller(api)
    placed = offer(miner, "1.00", hours="5")
    bid(client, "1.00", hours="2")
    withdrawn = miner.delete(f"/v1/offers/{placed['offer_id']}").json()
    assert (withdrawn["status"], withdrawn["remaining_hours"]) == ("CANCELED", "3.00000000")
    assert client.delete(f"/v1/offers/{placed['offer_id']}").status_code == 403
    assert bid(client, "1.00", hours="1").json()["status"] == "OPEN"


def test_a_stranger_cannot_read_or_cancel_my_bid(api, client):
    mine = bid(client, "1.00").json()
    stranger = Trader(api, *trading_factories.funded_client())
    assert stranger.get(f"/v1/bids/{mine['bid_id']}").status_code == 404
    assert stranger.delete(f"/v1/bids/{mine['bid_id']}").status_code == 404
    assert stranger.get("/v1/bids").json()["count"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"hours": "0"},
        {"hours": "-1"},
        {"gpu_count": 0},
        {"max_price_per_hour": "cheap"},
        {"max_price_per_hour": "1.000000001"},
        {"max_price_per_hour": "-2"},
        {"state": "FILLED"},
    ],
)
def test_bad_bids_are_422_and_hold_nothing(client, body):
    base = {"gpu_model": "H100", "gpu_count": 1, "max_price_per_hour": "1", "hours": "1"}
    response = client.post("/v1/bids", {**base, **body})
    assert response.status_code == 422, response.content
    assert Bid.objects.count() == 0
    assert account_balances(client.id)["held"] == 0


def test_a_bid_the_client_cannot_cover_is_402_and_stores_nothing(api):
    poor = Trader(api, *trading_factories.funded_client("1"))
    assert bid(poor, "1.00", hours="2").status_code == 402
    assert Bid.objects.count() == 0


def test_offers_filter_language_narrows_and_refuses_unknown_fields_and_models(api, client):
    offer(seller(api, gpus=(RTX_4090,)), "1.00", memory=24, region="eu", model="RTX 4090")
    offer(seller(api, "us"), "3.00", memory=80, region="us")
    found = client.get("/v1/offers", filter="gpu_memory_gb>=24 region=eu price_per_hour<2").json()
    assert [o["gpu_model"] for o in found["items"]] == ["RTX 4090"]
    assert client.get("/v1/offers", filter="gpu_model=H100").json()["count"] == 1
    unknown_field = client.get("/v1/offers", filter="colour=red")
    assert unknown_field.status_code == 422 and "unknown field 'colour'" in unknown_field.json()["detail"]
    unknown_model = client.get("/v1/offers", filter="gpu_model=Voodoo2")
    assert unknown_model.status_code == 422 and "unknown GPU model 'Voodoo2'" in unknown_model.json()["detail"]


def test_analytics_come_from_the_fills(api, client):
    offer(seller(api), "1.00", hours="4")
    offer(seller(api), "2.00", hours="4")
    bid(client, "2.00", hours="6")
    bid(client, "0.50", hours="1")
    h100 = client.get("/v1/marketplace/analytics").json()["by_gpu_class"][0]
    assert (h100["fills"], h100["gpu_hours"], h100["volume"]) == (2, "6.00000000", "8.00000000")
    assert h100["vwap"] == "1.33333333"
    assert (h100["best_ask"], h100["best_bid"], h100["spread"]) == ("2.00000000", "0.50000000", "1.50000000")
    assert h100["fill_rate"] == 0.5


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_two_matchers_racing_never_fill_one_order_twice(api):
    client = Trader(api, *trading_factories.funded_client("1000"))
    for _ in range(5):
        Offer.objects.create(miner_id=gpu_factories.miner().id, provider_id=accounts_factories.principal("miner")[0].id,
                             gpu_model="H100", gpu_class="h100", gpu_memory_gb=80, gpu_count=1,
                             price_per_hour=Decimal(1), hours=Decimal(2), remaining_hours=Decimal(2))  # fmt: skip
    from apps.marketplace.engine import bid_hold_key
    from apps.trading.services.ledger import hold_place

    for _ in range(5):
        placed = Bid(client_id=client.id, gpu_model="H100", gpu_class="h100", gpu_count=1, max_price_per_hour=1,
                     hours=Decimal(2), remaining_hours=Decimal(2))  # fmt: skip
        hold_place(owner_id=client.id, key=bid_hold_key(placed.id), amount=Decimal(2))
        placed.save(force_insert=True)
    results = at_once(lambda: class_match("h100"))
    fills_complete(Fill.objects.all())
    assert sum(len(r) for r in results) == Fill.objects.count() == 5
    assert sorted(Fill.objects.values_list("hours", flat=True)) == [Decimal(2)] * 5
    assert set(Bid.objects.values_list("status", flat=True)) == {"FILLED"}
    assert account_balances(client.id)["held"] == Decimal(10)


def test_the_seed_s_gpu_market_actions_go_through_v1_transactions(api, client):
    gpu_service = Trader(api, client.principal, client.key, "gpu")
    miner = seller(api, service="gpu")
    body = {"gpu_model": "H100", "gpu_memory_gb": 80, "price_per_hour": "1", "hours": "2"}
    placed = miner.post("/v1/transactions", {"action": "offer", "params": body})
    assert placed.status_code == 200, placed.content
    accepted = gpu_service.post("/v1/transactions", {"action": "accept", "params": {"gpu_model": "H100", "hours": "2"}})
    assert accepted.json()["status"] == "FILLED"
    bad = gpu_service.post("/v1/transactions", {"action": "bid", "params": {"gpu_model": "H100", "hours": "-1"}})
    assert bad.status_code == 422
    log = miner.get("/v1/transactions").json()
    assert [e["kind"] for e in log["items"]] == ["filled", "offer_placed"]


def test_money_is_conserved_from_bid_through_fill_release_and_settlement(api, client):
    from apps.gpu.models import GpuBooking
    from apps.gpu.services.bookings import bookings_settle_due

    early, late = seller(api), seller(api)
    offer(early, "1.00", hours="4")
    offer(late, "2.00", hours="4")
    fills = bid(client, "2.00", hours="8").json()["fills"]
    first, second = (GpuBooking.objects.get(id=f["booking_id"]) for f in fills)
    gpu = Trader(api, client.principal, client.key, "gpu")
    GpuBooking.objects.filter(id=first.id).update(
        starts_at=timezone.now() - timedelta(hours=1), ends_at=timezone.now() + timedelta(hours=3)
    )
    released = gpu.post(f"/v1/bookings/{first.id}/release", {})
    assert released.status_code == 200, released.content
    GpuBooking.objects.filter(id=second.id).update(ends_at=timezone.now() - timedelta(seconds=1))
    assert bookings_settle_due() == 1
    paid_early, paid_late = account_balances(early.id)["balance"], account_balances(late.id)["balance"]
    assert Decimal("0.9") < paid_early < Decimal("1.1")  # about an hour of four, less the fee
    assert paid_late == Decimal("7.8")  # 4 h x 2.00, less 2.5 %
    assert account_balances(client.id)["held"] == 0
    assert account_balances(client.id)["balance"] > Decimal(1000) - Decimal(12)


def test_each_fill_opens_an_agreement_that_its_booking_settles(api, client):
    from apps.gpu.models import GpuBooking
    from apps.gpu.services.bookings import bookings_settle_due

    miner = seller(api)
    offer(miner, "1.00", hours="4")
    fill = bid(client, "1.00", hours="4").json()["fills"][0]
    trading = Trader(api, client.principal, client.key, "trading")
    agreements = trading.get("/v1/trading/agreements").json()["items"]
    assert len(agreements) == 1
    agreement = agreements[0]
    assert (agreement["status"], agreement["price"], agreement["seller_id"]) == ("ACTIVE", "4.00000000", str(miner.id))
    assert agreement["terms"]["booking_id"] == fill["booking_id"]
    refused = trading.post(f"/v1/trading/agreements/{agreement['agreement_id']}/settlements", {})
    assert (refused.status_code, refused.json()["code"]) == (409, "settled_by_booking")

    GpuBooking.objects.filter(id=fill["booking_id"]).update(ends_at=timezone.now() - timedelta(seconds=1))
    bookings_settle_due()
    settled = trading.get(f"/v1/trading/agreements/{agreement['agreement_id']}").json()
    assert (settled["status"], settled["settled_amount"]) == ("SETTLED", "4.00000000")
