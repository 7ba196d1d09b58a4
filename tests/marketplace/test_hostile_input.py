"""Hostile input to every POST of the marketplace, on PostgreSQL by default: each is refused with a 4xx in the
contract's error shape before anything is stored or held (the client's balances are what they were), and the
lists still answer afterwards. Filters, paging and ids in the query and path: a 4xx, never a 500."""

import json

import pytest

from apps.marketplace.models import Bid, Fill, Offer
from apps.trading.facade import account_balances
from tests import hostile
from tests.marketplace.helpers import Trader, offer, seller
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")

OFFER = {"gpu_model": "H100", "gpu_memory_gb": 80, "gpu_count": 1, "region": "eu", "price_per_hour": "1.50",
         "hours": "10"}  # fmt: skip
BID = {"gpu_model": "H100", "min_gpu_memory_gb": 80, "gpu_count": 1, "region": "", "max_price_per_hour": "1.00",
       "hours": "2"}  # fmt: skip
# a valid body per endpoint, who sends it, a string and a number field of it, and what the valid body answers
ENDPOINTS = {
    "offer": ("/v1/offers", "miner", OFFER, "gpu_model", "price_per_hour", 201),
    "bid": ("/v1/bids", "client", BID, "region", "max_price_per_hour", 201),
    "action_offer": ("/v1/transactions", "miner", {"action": "offer", "params": OFFER}, "params.cuda_version",
                     "params.gpu_memory_gb", 200),
    "action_bid": ("/v1/transactions", "client", {"action": "bid", "params": BID}, "params.gpu_model",
                   "params.hours", 200),
    "action_accept": ("/v1/transactions", "client", {"action": "accept", "params": {"gpu_model": "H100",
                      "hours": "1"}}, "params.gpu_model", "params.hours", 200),
    "action_list": ("/v1/transactions", "client", {"action": "list", "params": {"filter": "region=eu"}},
                    "params.filter", "params.limit", 200),
}  # fmt: skip
LISTS = ("/v1/offers", "/v1/bids", "/v1/orderbook", "/v1/marketplace/analytics", "/v1/transactions")
PRODUCT_BEYOND = {**BID, "hours": "100000", "gpu_count": 1024}  # 9,999,999,999 AIT/h x 100,000 h x 1,024 GPUs
BEYOND = {  # (endpoint, body, field, raw JSON): beyond storage or the ledger, or the wrong type where logic reads
    "bid_price_beyond_the_ledger": ("bid", BID, "max_price_per_hour", '"100000000000"'),
    "bid_price_as_a_huge_number": ("bid", BID, "max_price_per_hour", "1e12"),
    "bid_price_exponent": ("bid", BID, "max_price_per_hour", '"1e400"'),
    "bid_price_nine_decimals": ("bid", BID, "max_price_per_hour", '"1.000000001"'),
    "bid_product_beyond_the_ledger": ("bid", PRODUCT_BEYOND, "max_price_per_hour", '"9999999999"'),
    "bid_gpu_count_beyond_int4": ("bid", BID, "gpu_count", "2147483648"),
    "bid_memory_beyond_int4": ("bid", BID, "min_gpu_memory_gb", "2147483648"),
    "bid_gpu_count_in_other_digits": ("bid", BID, "gpu_count", '"\u00b2"'),
    "bid_hours_beyond_any_order": ("bid", BID, "hours", '"100000.01"'),
    "bid_model_longer_than_its_column": ("bid", BID, "gpu_model", json.dumps("x" * 101)),
    "bid_region_longer_than_its_column": ("bid", BID, "region", json.dumps("x" * 65)),
    "offer_price_beyond_the_ledger": ("offer", OFFER, "price_per_hour", '"10000000000"'),
    "offer_memory_beyond_int4": ("offer", OFFER, "gpu_memory_gb", "2147483648"),
    "offer_count_beyond_int4": ("offer", OFFER, "gpu_count", "99999999999999999999"),
    "offer_hours_beyond_any_order": ("offer", OFFER, "hours", "1e6"),
    "offer_cuda_longer_than_its_column": ("offer", OFFER, "cuda_version", json.dumps("1" * 17)),
    "action_bid_product_beyond_the_ledger": ("action_bid", {"action": "bid", "params": PRODUCT_BEYOND},
                                             "params.max_price_per_hour", '"9999999999"'),
    "action_accept_hours_negative": ("action_accept", ENDPOINTS["action_accept"][2], "params.hours", '"-1"'),
    "action_accept_hours_beyond_any_order": ("action_accept", ENDPOINTS["action_accept"][2], "params.hours", "1e20"),
    "action_accept_model_not_text": ("action_accept", ENDPOINTS["action_accept"][2], "params.gpu_model", '{"a": 1}'),
    "action_list_filter_not_text": ("action_list", ENDPOINTS["action_list"][2], "params.filter", "5"),
    "action_list_filter_nan": ("action_list", ENDPOINTS["action_list"][2], "params.filter", '"price_per_hour<NaN"'),
    "action_cancel_id_not_an_id": ("action_list", {"action": "cancel", "params": {}}, "params.order_id", "123"),
    "action_cancel_id_in_other_digits": ("action_list", {"action": "cancel", "params": {}}, "params.order_id",
                                         '"\u00b2"'),
    "action_status_model_not_text": ("action_list", {"action": "status", "params": {}}, "params.gpu_model", "[1]"),
    "action_match_model_not_text": ("action_list", {"action": "match", "params": {}}, "params.gpu_model", "7"),
    "action_params_not_an_object": ("action_list", ENDPOINTS["action_list"][2], "params", '"filter"'),
}  # fmt: skip
PAGING = [("limit", "\u00b2"), ("limit", "9" * 5000), ("limit", "0"), ("limit", "501"), ("offset", "-1"),
          ("offset", "9" * 5000), ("offset", "\u0661"), ("limit", "NaN")]  # fmt: skip
FILTERS = ["price_per_hour<NaN", "price_per_hour<Infinity", "price_per_hour>-Infinity", "price_per_hour<1e400",
           "price_per_hour<" + "9" * 30, "remaining_hours>0.000000001", "gpu_memory_gb>=\u00b2",
           "gpu_memory_gb>=" + "9" * 5000, "gpu_count>=2147483648", "gpu_count>=\u0663", "region=" + "x" * 101,
           "region=a\x00b", "region=a\x01b", "gpu_model=a\x00b", " ".join(["region=eu"] * 21)]  # fmt: skip


@pytest.fixture
def world(api):
    """A miner with an H100 who posts offers, a funded client, and one resting offer (so `accept` can fill)."""
    resting = offer(seller(api), "1.00", hours="10")
    return {
        "miner": seller(api),
        "client": Trader(api, *trading_factories.funded_client("1000")),
        "resting": resting["offer_id"],
    }


def sent(world, endpoint: str, text: str):
    path, role, *_ = ENDPOINTS[endpoint]
    who = world[role]
    return who.http.post(path, text)


def assert_nothing_happened(world, balances) -> None:
    assert (Offer.objects.count(), Bid.objects.count(), Fill.objects.count()) == (1, 0, 0)
    assert Offer.objects.get(id=world["resting"]).remaining_hours == 10
    assert account_balances(world["client"].id) == balances
    for path in LISTS:
        response = world["client"].get(path)
        assert response.status_code == 200, (path, response.content[:300])


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_control_each_valid_body_does_its_work(world, endpoint):
    """Given the valid bodies the hostile ones are made from, they are not refused: so a refusal below is the
    hostile value's."""
    body, status = ENDPOINTS[endpoint][2], ENDPOINTS[endpoint][5]
    response = sent(world, endpoint, json.dumps(body))
    assert response.status_code == status, response.content[:500]


@pytest.mark.parametrize("kind", hostile.ALL)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("which", ["string", "number"])
def test_a_hostile_value_in_any_field_is_refused_and_changes_nothing(world, endpoint, which, kind):
    _, _, body, string_field, number_field, _ = ENDPOINTS[endpoint]
    balances = account_balances(world["client"].id)
    field = string_field if which == "string" else number_field
    response = sent(world, endpoint, hostile.body_with(body, field, hostile.ALL[kind]))
    hostile.assert_refused(response, 422)
    assert_nothing_happened(world, balances)


@pytest.mark.parametrize("case", BEYOND)
def test_a_value_beyond_storage_or_of_the_wrong_type_is_refused_before_any_escrow(world, case):
    endpoint, body, field, raw = BEYOND[case]
    balances = account_balances(world["client"].id)
    response = sent(world, endpoint, hostile.body_with(body, field, raw))
    hostile.assert_refused(response, 422)
    assert_nothing_happened(world, balances)


def test_a_bid_whose_hold_is_beyond_the_ledger_says_so(world):
    response = sent(world, "bid", hostile.body_with(PRODUCT_BEYOND, "max_price_per_hour", '"9999999999"'))
    assert "max_price_per_hour x hours x gpu_count" in hostile.assert_refused(response, 422)["detail"]


def test_an_idempotency_key_beyond_its_bounds_is_refused_before_any_escrow(world):
    balances = account_balances(world["client"].id)
    headers = {"Idempotency-Key": "k" * 200}
    response = world["client"].http.post("/v1/bids", BID, headers=headers)
    hostile.assert_refused(response, 422)
    assert_nothing_happened(world, balances)


@pytest.mark.parametrize(("name", "value"), PAGING)
@pytest.mark.parametrize("path", LISTS)
def test_a_hostile_paging_parameter_is_a_4xx(world, path, name, value):
    hostile.assert_refused(world["client"].get(path, **{name: value}))


@pytest.mark.parametrize("expression", FILTERS)
def test_a_hostile_offer_filter_is_a_4xx_and_a_sound_one_still_answers(world, expression):
    hostile.assert_refused(world["client"].get("/v1/offers", filter=expression), 422)
    found = world["client"].get("/v1/offers", filter="price_per_hour<1.5 gpu_memory_gb>=80 gpu_count>=1")
    assert [o["offer_id"] for o in found.json()["items"]] == [world["resting"]]


@pytest.mark.parametrize("gpu_model", ["a\x00b", "a\x01b", "x" * 101])
def test_a_hostile_order_book_model_is_a_4xx(world, gpu_model):
    hostile.assert_refused(world["client"].get("/v1/orderbook", gpu_model=gpu_model), 422)


@pytest.mark.parametrize("order_id", ["\u00b2", "9" * 5000, "a\x00b", "00000000-0000-0000-0000-00000000000\u00b2"])
@pytest.mark.parametrize(("method", "path"), [("get", "/v1/offers/{}"), ("delete", "/v1/offers/{}"),
                                              ("get", "/v1/bids/{}"), ("delete", "/v1/bids/{}")])  # fmt: skip
def test_a_hostile_id_in_the_path_is_a_4xx_and_changes_nothing(world, method, path, order_id):
    balances = account_balances(world["client"].id)
    who = world["miner"] if path.startswith("/v1/offers") and method == "delete" else world["client"]
    response = who.http.request(method, path.format(order_id))
    hostile.assert_refused(response)
    assert_nothing_happened(world, balances)
