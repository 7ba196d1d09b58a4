"""GPU bookings and reviews through the gpu service's API: escrow, prorated release, settlement, reviews.

The clock is frozen (`now`), and elapsed time is simulated by moving a booking's start and end back.
A miner from the factories charges 0.01 AIT per GPU-second: 36 AIT per GPU-hour.
"""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from aitbc_site.errors import Conflict
from aitbc_site.money import money_str
from apps.gpu.facade import gpu_booking_open
from apps.gpu.models import Gpu, GpuBooking, Miner
from apps.gpu.services.miners import miner_deregister
from apps.gpu.tasks import settle_bookings
from apps.trading.facade import account_balances
from apps.trading.models import Hold
from apps.trading.services.ledger import hold_place
from tests.accounts import factories as accounts_factories
from tests.concurrency import at_once
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

FILL_KEY = f"fill:{uuid.uuid4()}"  # order-book fills are keyed by their id
RTX_FILL_KEY = f"fill:{uuid.uuid4()}"
pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def now(monkeypatch):
    moment = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: moment)
    return moment


@pytest.fixture
def miner():
    return gpu_factories.miner(unit_price="0.01")


@pytest.fixture
def h100(miner):
    return Gpu.objects.get(miner_id=miner.id)


def booked(api, h100, key, hours="2"):
    response = api("gpu", key).post(f"/v1/gpus/{h100.id}/book", {"hours": hours})
    assert response.status_code == 201, response.content
    return response.json()


def shift_back(booking, by):
    GpuBooking.objects.filter(id=booking["booking_id"]).update(
        starts_at=GpuBooking.objects.get(id=booking["booking_id"]).starts_at - by,
        ends_at=GpuBooking.objects.get(id=booking["booking_id"]).ends_at - by,
    )


def balances(principal_id):
    return {k: money_str(v) for k, v in account_balances(principal_id).items() if k != "principal_id"}


def test_given_a_funded_client_when_it_books_two_hours_then_hours_x_price_is_held(now, api, h100, miner):
    client, key = trading_factories.funded_client("100")
    booking = booked(api, h100, key, hours="2")
    assert (
        booking
        | {
            "status": "ACTIVE",
            "gpu_ids": [str(h100.id)],
            "gpu_count": 1,
            "hours": "2.00000000",
            "price_per_hour": "36.00000000",
            "amount": "72.00000000",
            "provider_principal_id": str(miner.principal_id),
            "ends_at": (now + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        }
        == booking
    )
    assert balances(client.id) == {"balance": "100.00000000", "held": "72.00000000", "available": "28.00000000"}


def test_given_the_same_idempotency_key_when_booking_again_then_one_booking_and_one_hold(now, api, h100):
    client, key = trading_factories.funded_client("100")
    first = api("gpu", key).post(f"/v1/gpus/{h100.id}/book", {"hours": "1"}, headers={"Idempotency-Key": "k1"})
    again = api("gpu", key).post(f"/v1/gpus/{h100.id}/book", {"hours": "1"}, headers={"Idempotency-Key": "k1"})
    other = api("gpu", key).post(f"/v1/gpus/{h100.id}/book", {"hours": "3"}, headers={"Idempotency-Key": "k1"})
    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 409)
    assert again.json()["booking_id"] == first.json()["booking_id"]
    assert balances(client.id)["held"] == "36.00000000"


def test_given_a_half_used_booking_when_released_then_provider_paid_pro_rata_minus_fee_and_rest_refunded(
    now, api, h100, miner
):
    client, key = trading_factories.funded_client("100")
    booking = booked(api, h100, key, hours="2")
    shift_back(booking, timedelta(hours=1))
    released = api("gpu", key).post(f"/v1/bookings/{booking['booking_id']}/release")
    assert released.status_code == 200
    assert (
        released.json()
        | {
            "status": "RELEASED",
            "paid": "35.10000000",
            "fee": "0.90000000",
            "refunded": "36.00000000",
        }
        == released.json()
    )
    assert balances(miner.principal_id) == {"balance": "35.10000000", "held": "0.00000000", "available": "35.10000000"}
    assert balances(client.id) == {"balance": "64.00000000", "held": "0.00000000", "available": "64.00000000"}


def test_given_a_released_booking_when_released_again_then_the_same_answer_and_no_money_moves(now, api, h100, miner):
    client, key = trading_factories.funded_client("100")
    booking = booked(api, h100, key, hours="2")
    shift_back(booking, timedelta(minutes=30))
    first = api("gpu", key).post(f"/v1/bookings/{booking['booking_id']}/release")
    shift_back(booking, timedelta(minutes=30))
    again = api("gpu", key).post(f"/v1/bookings/{booking['booking_id']}/release")
    money = ("status", "paid", "fee", "refunded", "ended_at")
    assert again.status_code == 200
    assert [again.json()[k] for k in money] == [first.json()[k] for k in money]
    assert first.json()["paid"] == "17.55000000"
    assert balances(miner.principal_id)["balance"] == "17.55000000"
    assert balances(client.id)["balance"] == "82.00000000"


def test_given_bookings_past_their_end_when_settled_three_times_then_paid_in_full_once(now, api, h100, miner):
    client, key = trading_factories.funded_client("100")
    booking = booked(api, h100, key, hours="2")
    shift_back(booking, timedelta(hours=3))
    assert [settle_bookings(), settle_bookings(), settle_bookings()] == [1, 0, 0]
    settled = api("gpu", key).get(f"/v1/bookings/{booking['booking_id']}").json()
    assert (
        settled | {"status": "COMPLETED", "paid": "70.20000000", "fee": "1.80000000", "refunded": "0.00000000"}
        == settled
    )
    assert balances(miner.principal_id)["balance"] == "70.20000000"
    assert balances(client.id) == {"balance": "28.00000000", "held": "0.00000000", "available": "28.00000000"}


def test_given_a_completed_booking_when_released_then_409(now, api, h100):
    _, key = trading_factories.funded_client("100")
    booking = booked(api, h100, key, hours="1")
    shift_back(booking, timedelta(hours=2))
    settle_bookings()
    assert api("gpu", key).post(f"/v1/bookings/{booking['booking_id']}/release").status_code == 409


def test_given_my_booking_when_a_stranger_reads_or_releases_it_then_404_and_the_provider_may_read_it(now, api, h100):
    _, key = trading_factories.funded_client("100")
    booking = booked(api, h100, key)
    _, stranger = trading_factories.funded_client("100")
    path = f"/v1/bookings/{booking['booking_id']}"
    assert api("gpu", stranger).get(path).status_code == 404
    assert api("gpu", stranger).post(f"{path}/release").status_code == 404
    assert api("gpu", stranger).get("/v1/bookings").json() == {"items": [], "count": 0}
    assert api("gpu", key).get("/v1/bookings").json()["count"] == 1
    _, admin = accounts_factories.principal("admin")
    assert api("gpu", admin).get(path).json()["status"] == "ACTIVE"


def test_given_a_client_short_of_money_when_booking_then_402_and_nothing_is_held(now, api, h100):
    client, key = trading_factories.funded_client("10")
    response = api("gpu", key).post(f"/v1/gpus/{h100.id}/book", {"hours": "2"})
    assert response.status_code == 402
    assert response.json()["code"] == "insufficient_funds"
    assert balances(client.id)["held"] == "0.00000000"
    assert GpuBooking.objects.count() == 0


def test_given_a_booked_gpu_when_another_client_books_it_then_409_and_an_unknown_gpu_is_404(now, api, h100):
    _, key = trading_factories.funded_client("100")
    booked(api, h100, key, hours="1")
    _, other = trading_factories.funded_client("100")
    taken = api("gpu", other).post(f"/v1/gpus/{h100.id}/book", {"hours": "1"})
    assert (taken.status_code, taken.json()["code"]) == (409, "gpu_booked")
    assert api("gpu", other).post(f"/v1/gpus/{h100.miner_id}/book", {"hours": "1"}).status_code == 404


def test_given_an_offline_miner_when_booking_its_gpu_then_409(now, api, h100, miner):
    _, key = trading_factories.funded_client("100")
    miner_deregister(miner=Miner.objects.get(id=miner.id))
    response = api("gpu", key).post(f"/v1/gpus/{h100.id}/book", {"hours": "1"})
    assert (response.status_code, response.json()["code"]) == (409, "miner_offline")


@pytest.mark.parametrize("hours", ["0", "-1", "x", "8761"])
def test_given_bad_hours_when_booking_then_422(now, api, h100, hours):
    _, key = trading_factories.funded_client("100")
    assert api("gpu", key).post(f"/v1/gpus/{h100.id}/book", {"hours": hours}).status_code == 422


def test_given_an_order_book_fill_when_the_marketplace_opens_a_booking_then_it_books_the_miners_gpus_once(
    h100, miner, now
):
    client, _ = trading_factories.funded_client("100")
    hold_place(owner_id=client.id, key=FILL_KEY, amount=Decimal("90"), what="this fill")
    terms = {
        "miner_id": miner.id,
        "provider_principal_id": miner.principal_id,
        "client_id": client.id,
        "gpu_count": 1,
        "hours": Decimal("2.5"),
        "price_per_hour": Decimal("36"),
        "escrow_key": FILL_KEY,
    }
    booking_id = gpu_booking_open(key=FILL_KEY, gpu_model="h100", **terms)
    assert gpu_booking_open(key=FILL_KEY, gpu_model="h100", **terms) == booking_id
    booking = GpuBooking.objects.get(id=booking_id)
    assert (booking.gpu_ids, booking.amount, booking.ends_at) == (
        [str(h100.id)],
        Decimal("90"),
        now + timedelta(hours=2.5),
    )
    GpuBooking.objects.filter(id=booking_id).update(ends_at=now)
    assert settle_bookings() == 1
    assert balances(miner.principal_id)["balance"] == "87.75000000"


def fill_booking(miner, client, key, **terms):
    """What the marketplace does for a fill: a hold for it, then the booking paid from it."""
    terms = {"gpu_model": "H100", "gpu_count": 1, "hours": Decimal("1"), "price_per_hour": Decimal("5"), **terms}
    hold_place(owner_id=client.id, key=key, amount=terms["hours"] * terms["price_per_hour"] * terms["gpu_count"])
    return gpu_booking_open(
        key=key, miner_id=miner.id, provider_principal_id=miner.principal_id, client_id=client.id, escrow_key=key,
        **terms,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("terms", "why"),
    [
        ({"gpu_model": "RTX 4090"}, "has 0 of the 1 RTX 4090 GPUs"),
        ({"gpu_count": 2}, "has 1 of the 2 H100 GPUs"),
        ({"min_memory_gb": 96}, "has 85.5 GB"),
    ],
)
def test_given_gpus_the_miner_lacks_when_a_fill_opens_a_booking_then_409_and_nothing_is_recorded(miner, terms, why):
    client, _ = trading_factories.funded_client("100")
    with pytest.raises(Conflict) as refused:
        fill_booking(miner, client, RTX_FILL_KEY, **terms)
    assert refused.value.code == "gpus_unavailable" and why in refused.value.detail
    assert GpuBooking.objects.count() == 0
    assert Hold.objects.get(key=RTX_FILL_KEY).status == "HELD"  # the caller's to undo (the marketplace does)


def test_given_a_one_gpu_miner_when_two_fills_book_the_same_hours_then_the_second_is_refused(miner, h100, now):
    first, _ = trading_factories.funded_client("100")
    second, _ = trading_factories.funded_client("100")
    booked_id = fill_booking(miner, first, FILL_KEY, hours=Decimal("2"))
    with pytest.raises(Conflict) as refused:
        fill_booking(miner, second, RTX_FILL_KEY, hours=Decimal("1"))
    assert refused.value.code == "gpus_unavailable"
    assert f"{h100.uuid} is booked over that time" in refused.value.detail
    assert list(GpuBooking.objects.values_list("id", "gpu_ids")) == [(booked_id, [str(h100.id)])]
    GpuBooking.objects.filter(id=booked_id).update(status="RELEASED")  # once it ends the GPU is free again
    assert GpuBooking.objects.get(id=fill_booking(miner, second, f"fill:{uuid.uuid4()}")).gpu_ids == [str(h100.id)]


def test_given_a_miner_gone_offline_when_a_fill_opens_a_booking_then_409(miner, h100):
    client, _ = trading_factories.funded_client("100")
    miner_deregister(miner=Miner.objects.get(id=miner.id))
    with pytest.raises(Conflict) as refused:
        fill_booking(miner, client, RTX_FILL_KEY)
    assert refused.value.code == "gpus_unavailable" and "the miner is offline" in refused.value.detail


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_given_a_one_gpu_miner_when_two_clients_book_it_at_once_then_one_gets_it_and_the_other_nothing_held(
    api,
):
    h100 = Gpu.objects.get(miner_id=gpu_factories.miner(unit_price="0.01").id)
    clients = [trading_factories.funded_client("100") for _ in range(2)]
    buyers = iter([api("gpu", key) for _, key in clients])
    answers = at_once(lambda: next(buyers).post(f"/v1/gpus/{h100.id}/book", {"hours": "1"}))
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert [a.json()["code"] for a in answers if a.status_code == 409] == ["gpu_booked"]
    assert sorted(balances(client.id)["held"] for client, _ in clients) == ["0.00000000", "36.00000000"]


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_given_a_one_gpu_miner_when_two_fills_book_at_once_then_the_gpu_is_sold_once():
    miner = gpu_factories.miner(unit_price="0.01")
    buyers = iter([(trading_factories.funded_client("100")[0], f"fill:{uuid.uuid4()}") for _ in range(2)])
    outcomes = at_once(lambda: fill_booking(miner, *next(buyers)), allowed=(Conflict,))
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "UUID"]
    assert GpuBooking.objects.get().gpu_ids == [str(Gpu.objects.get(miner_id=miner.id).id)]


def test_given_no_booking_when_a_client_reviews_a_gpu_then_403(now, api, h100):
    _, key = trading_factories.funded_client("100")
    response = api("gpu", key).post(f"/v1/gpus/{h100.id}/reviews", {"rating": 5, "comment": "fast"})
    assert response.status_code == 403


def test_given_bookings_when_clients_review_then_201_and_the_gpu_average_follows_and_a_second_review_is_409(
    now, api, h100
):
    _, first = trading_factories.funded_client("100")
    first_booking = booked(api, h100, first, hours="1")
    api("gpu", first).post(f"/v1/bookings/{first_booking['booking_id']}/release")
    _, second = trading_factories.funded_client("100")
    booked(api, h100, second, hours="1")
    review = api("gpu", first).post(f"/v1/gpus/{h100.id}/reviews", {"rating": 5, "comment": "fast"})
    assert review.status_code == 201
    assert review.json() | {"rating": 5, "comment": "fast", "gpu_id": str(h100.id)} == review.json()
    assert api("gpu", second).post(f"/v1/gpus/{h100.id}/reviews", {"rating": 2}).status_code == 201
    again = api("gpu", first).post(f"/v1/gpus/{h100.id}/reviews", {"rating": 1})
    assert (again.status_code, again.json()["code"]) == (409, "already_reviewed")
    reviews = api("gpu", first).get(f"/v1/gpus/{h100.id}/reviews").json()
    assert (reviews["count"], reviews["rating_average"], reviews["rating_count"]) == (2, 3.5, 2)
    listed = api("gpu", first).get("/v1/gpus?model=H100").json()["items"]
    assert [(g["gpu_id"], g["rating_average"], g["rating_count"]) for g in listed] == [(str(h100.id), 3.5, 2)]


@pytest.mark.parametrize("rating", [0, 6])
def test_given_a_rating_outside_1_to_5_when_reviewing_then_422(now, api, h100, rating):
    _, key = trading_factories.funded_client("100")
    booked(api, h100, key, hours="1")
    response = api("gpu", key).post(f"/v1/gpus/{h100.id}/reviews", {"rating": rating})
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert "rating" in response.json()["detail"]


def test_given_a_hold_whose_booking_was_never_recorded_when_the_settler_runs_then_it_is_released_once(now, api, h100):
    client, key = trading_factories.funded_client("100")
    kept = booked(api, h100, key, hours="1")  # recorded: its hold stays
    hold_place(owner_id=client.id, key=f"booking:{uuid.uuid4()}", amount=Decimal("20"))  # died before the booking
    young = f"booking:{uuid.uuid4()}"
    Hold.objects.filter(key__startswith="booking:").update(created_at=now - timedelta(minutes=10))
    hold_place(owner_id=client.id, key=young, amount=Decimal("5"))  # another booking being written right now

    assert [settle_bookings(), settle_bookings()] == [0, 0]

    assert balances(client.id) == {"balance": "100.00000000", "held": "41.00000000", "available": "59.00000000"}
    assert api("gpu", key).get(f"/v1/bookings/{kept['booking_id']}").json()["status"] == "ACTIVE"
    assert Hold.objects.get(key=young).status == "HELD"
