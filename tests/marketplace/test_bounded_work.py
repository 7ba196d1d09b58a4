"""Bounded work for every caller: the order book, the analytics and the event log are paged, and matching a new
order looks at the best resting orders that meet it, never the whole book."""

import uuid
from decimal import Decimal

import pytest

from apps.gpu.models import Gpu
from apps.gpu.services.bookings import gpu_book
from apps.marketplace import engine
from apps.marketplace.models import Bid, Offer
from tests.marketplace.helpers import bid, offer, seller
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def resting_offers(prices, **terms) -> list[Offer]:
    """Offers of H100 80GB in eu straight into the book, from miners that are not registered (so no GPUs free)."""
    terms = {"gpu_model": "H100", "gpu_class": "h100", "gpu_memory_gb": 80, "gpu_count": 1, "region": "eu", **terms}
    made = [
        Offer(miner_id=uuid.uuid4(), provider_id=uuid.uuid4(), price_per_hour=Decimal(price), hours=Decimal(5),
              remaining_hours=Decimal(5), **terms)
        for price in prices
    ]  # fmt: skip
    return Offer.objects.bulk_create(made)


def resting_bids(prices, **terms) -> list[Bid]:
    terms = {"gpu_model": "H100", "gpu_class": "h100", "min_gpu_memory_gb": 80, "gpu_count": 1, "region": "", **terms}
    made = [
        Bid(client_id=uuid.uuid4(), max_price_per_hour=Decimal(price), hours=Decimal(1), remaining_hours=Decimal(1),
            **terms)
        for price in prices
    ]  # fmt: skip
    return Bid.objects.bulk_create(made)


def test_the_order_book_honours_limit_and_offset_on_each_side(api, client):
    cheap, middle, dear = resting_offers(["1", "2", "3"])
    page = client.get("/v1/orderbook", gpu_model="H100", limit=2).json()
    assert [a["offer_id"] for a in page["asks"]] == [str(cheap.id), str(middle.id)]
    assert (page["ask_count"], page["bid_count"], page["limit"]) == (3, 0, 2)
    rest = client.get("/v1/orderbook", gpu_model="H100", limit=2, offset=2).json()
    assert [a["offer_id"] for a in rest["asks"]] == [str(dear.id)]
    assert len(client.get("/v1/orderbook").json()["asks"]) == 3  # the default page holds them all


def test_the_analytics_page_through_the_gpu_classes_and_total_every_class(api, client):
    offer(seller(api), "1.00", hours="4")
    bid(client, "1.00", hours="2")  # a fill of 2 h at 1.00 in h100
    for model in ("A100", "L4"):
        resting_offers(["1"], gpu_model=model, gpu_class=model.lower())
    first = client.get("/v1/marketplace/analytics", limit=2).json()
    assert [row["gpu_class"] for row in first["by_gpu_class"]] == ["a100", "h100"]
    assert (first["count"], first["fills"], first["volume"]) == (3, 1, "2.00000000")
    last = client.get("/v1/marketplace/analytics", limit=2, offset=2).json()
    assert [row["gpu_class"] for row in last["by_gpu_class"]] == ["l4"]
    assert (last["by_gpu_class"][0]["fills"], last["by_gpu_class"][0]["best_ask"]) == (0, "1.00000000")


def test_the_event_log_is_paged_newest_first_across_orders_and_fills(api, client):
    offer(seller(api), "1.00", hours="4")
    bid(client, "1.00", hours="1")
    bid(client, "0.10", hours="1")
    log = client.get("/v1/transactions", limit=2).json()
    assert log["count"] == 3  # the client's two bids and its fill
    assert [e["kind"] for e in log["items"]] == ["bid_placed", "filled"]
    older = client.get("/v1/transactions", limit=2, offset=2).json()
    assert [e["kind"] for e in older["items"]] == ["bid_placed"]


def test_a_new_bid_looks_at_the_best_priced_offers_that_meet_it_not_the_whole_book(api, client, monkeypatch):
    # given a book deeper than one match looks, and cheaper offers that do not meet the bid (another region)
    monkeypatch.setattr(engine, "MATCH_DEPTH", 3)
    resting_offers(["0.10", "0.20"], region="us")
    best = resting_offers(["0.90", "0.50", "0.70", "0.60", "0.80"])
    looked_at = []
    real = engine.gpus_free
    monkeypatch.setattr(engine, "gpus_free", lambda **kw: looked_at.append(kw["miner_id"]) or real(**kw))
    # when a client bids
    placed = bid(client, "1.00", hours="1", region="eu").json()
    # then only the three cheapest offers that meet it were looked at (none has a GPU free), and the bid rests
    assert looked_at == [best[1].miner_id, best[3].miner_id, best[2].miner_id]
    assert placed["status"] == "OPEN"


def test_a_new_offer_looks_at_the_best_bids_it_meets_not_the_whole_book(api, client, monkeypatch):
    # given more resting bids than one match looks at, and the miner's only GPU booked for the next day
    monkeypatch.setattr(engine, "MATCH_DEPTH", 3)
    resting_bids(["5"], min_gpu_memory_gb=96)  # the best price, but more memory than the offer has
    best = resting_bids(["1.10", "1.50", "1.30", "1.40", "1.20"])
    miner = seller(api)
    gpu_book(client=trading_factories.funded_client("100")[0], gpu_id=Gpu.objects.get(miner__principal_id=miner.id).id,
             hours=Decimal(24))  # fmt: skip
    looked_at = []
    real = engine.offer_fits
    monkeypatch.setattr(engine, "offer_fits", lambda b, o: looked_at.append(b.id) or real(b, o))
    # when the miner offers
    placed = offer(miner, "1.00", hours="10")
    # then the three highest bids it meets were looked at, and nothing filled without a free GPU
    assert looked_at == [best[1].id, best[3].id, best[2].id]
    assert (placed["status"], placed["remaining_hours"]) == ("OPEN", "10.00000000")
