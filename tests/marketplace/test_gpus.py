"""Only real GPUs are sold: an offer needs the miner's registered, online GPUs, and a GPU is sold once per hour."""

from decimal import Decimal

import pytest

from apps.gpu.models import Gpu, GpuBooking, Miner
from apps.gpu.services.bookings import gpu_book
from apps.gpu.services.miners import miner_deregister
from apps.marketplace import engine
from apps.marketplace.models import Bid, Fill, Offer
from apps.marketplace.services import books_match_all
from apps.trading.facade import account_balances
from apps.trading.models import Hold
from tests.gpu import factories as gpu_factories
from tests.marketplace.helpers import RTX_4090, Trader, bid, offer, seller
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")
OFFER = {"gpu_model": "H100", "gpu_memory_gb": 80, "gpu_count": 1, "region": "eu", "price_per_hour": "1",
         "hours": "10"}  # fmt: skip


def offered(trader, **terms):
    return trader.post("/v1/offers", {**OFFER, **terms})


@pytest.mark.parametrize(
    ("gpus", "terms", "says"),
    [
        ((), {}, "needs 1 online H100 GPUs of that memory registered to this miner; it has none, 1 missing"),
        ((gpu_factories.H100, gpu_factories.H100), {"gpu_count": 3}, "it has 2 (GPU-"),
        ((gpu_factories.H100,), {"gpu_memory_gb": 96}, "has 85.5 GB"),
        ((RTX_4090,), {}, "it has none, 1 missing"),
    ],
)
def test_an_offer_of_gpus_the_miner_has_not_registered_is_409_and_no_offer_exists(api, gpus, terms, says):
    miner = seller(api, gpus=gpus)
    refused = offered(miner, **terms)
    assert (refused.status_code, refused.json()["code"]) == (409, "gpus_missing")
    assert says in refused.json()["detail"]
    assert Offer.objects.count() == 0


def test_a_miner_with_two_h100_cannot_offer_three_and_may_offer_two(api):
    miner = seller(api, gpus=(gpu_factories.H100, gpu_factories.H100))
    refused = offered(miner, gpu_count=3).json()
    uuids = Gpu.objects.filter(miner__principal_id=miner.id).order_by("id").values_list("uuid", flat=True)
    assert f"it has 2 ({', '.join(uuids)}), 1 missing" in refused["detail"]
    assert offered(miner, gpu_count=2).status_code == 201
    assert list(Offer.objects.values_list("gpu_count", flat=True)) == [2]


def test_an_offline_miner_or_gpu_is_not_counted(api):
    gone = seller(api)
    miner_deregister(miner=Miner.objects.get(principal_id=gone.id))
    assert "the miner is offline" in offered(gone).json()["detail"]
    dropped = seller(api, gpus=(gpu_factories.H100, gpu_factories.H100))
    view = Miner.objects.get(principal_id=dropped.id)
    Gpu.objects.filter(id=Gpu.objects.filter(miner=view).first().id).update(status="OFFLINE")
    refused = offered(dropped, gpu_count=2).json()
    assert "is OFFLINE (its miner no longer reports it)" in refused["detail"]
    assert Offer.objects.count() == 0


def test_a_one_gpu_miner_sells_the_same_hours_once_and_the_next_bid_waits_saying_why(api, client):
    miner = seller(api)
    offer(miner, "1.00", hours="10")
    first = bid(client, "1.00", hours="4").json()
    other = Trader(api, *trading_factories.funded_client("100"))
    second = bid(other, "1.00", hours="4").json()
    assert first["status"] == "FILLED"
    assert (second["status"], second["fills"]) == ("OPEN", [])
    assert second["unmatched_reasons"] == ["gpus: the H100 offers within your price have no 1 GPUs free now"]
    [booking] = GpuBooking.objects.all()
    assert booking.gpu_ids == [str(Gpu.objects.get(miner__principal_id=miner.id).id)]
    assert account_balances(other.id)["held"] == Decimal(4)  # its bid's hold, until it fills or is canceled


def book_directly(gpu: Gpu) -> None:
    """Another client books the GPU through the gpu service (POST /v1/gpus/{id}/book), for 8 hours from now."""
    gpu_book(client=trading_factories.funded_client("100")[0], gpu_id=gpu.id, hours=Decimal(8))


def _ledger_busy(**kwargs):
    from aitbc_site.errors import Conflict

    raise Conflict("the ledger is busy")


def test_a_fill_whose_gpu_was_booked_meanwhile_is_refused_its_escrow_goes_back_and_the_miner_gets_nothing(
    api, client, monkeypatch
):
    # given a fill matched while the ledger could not fund it, and the miner's only GPU booked directly meanwhile
    miner = seller(api)
    monkeypatch.setattr(engine, "escrow_move", _ledger_busy)
    offer(miner, "1.00", hours="10")
    placed = bid(client, "2.00", hours="4").json()
    fill = Fill.objects.get(bid_id=placed["bid_id"])
    monkeypatch.undo()
    book_directly(Gpu.objects.get(miner__principal_id=miner.id))
    # when the periodic run books the fill
    books_match_all()
    # then the fill is refused, its money is back in the bid's hold and the bid is on the book again
    fill.refresh_from_db()
    assert fill.status == "REFUSED"
    assert Hold.objects.get(key=f"fill:{fill.id}").status == "RELEASED"
    assert Hold.objects.get(key=f"bid:{placed['bid_id']}").amount == Decimal(8)  # 2.00 x 4 h, as placed
    assert (Bid.objects.get(id=placed["bid_id"]).status, Offer.objects.get().remaining_hours) == ("OPEN", 10)
    assert not GpuBooking.objects.filter(key=f"fill:{fill.id}").exists()
    assert account_balances(miner.id)["balance"] == 0
    # and canceling the bid gives the client all its money back
    client.delete(f"/v1/bids/{placed['bid_id']}")
    assert account_balances(client.id) | {"held": 0, "balance": Decimal(1000)} == account_balances(client.id)


def _crash(**kwargs):
    raise RuntimeError("the process died")


def test_a_refusal_whose_escrow_was_not_moved_back_before_a_crash_is_finished_by_the_periodic_run(
    api, client, monkeypatch
):
    # given a fill refused (its GPU booked directly meanwhile) by a process that died before moving its escrow back
    miner = seller(api)
    monkeypatch.setattr(engine, "escrow_move", _ledger_busy)
    offer(miner, "1.00", hours="10")
    placed = bid(client, "1.00", hours="2").json()
    monkeypatch.undo()
    book_directly(Gpu.objects.get(miner__principal_id=miner.id))
    monkeypatch.setattr(engine, "escrow_return", _crash)
    books_match_all()
    fill = Fill.objects.get(bid_id=placed["bid_id"])
    assert (fill.status, Hold.objects.get(key=f"fill:{fill.id}").status) == ("REFUSED", "HELD")
    # when the periodic run goes again
    monkeypatch.undo()
    assert engine.fill_escrows_refused_return() == 1
    # then the escrow is back in the bid's, once
    assert Hold.objects.get(key=f"fill:{fill.id}").status == "RELEASED"
    assert Hold.objects.get(key=f"bid:{placed['bid_id']}").amount == Decimal(2)
    assert engine.fill_escrows_refused_return() == 0
    assert account_balances(client.id)["held"] == Decimal(2)
