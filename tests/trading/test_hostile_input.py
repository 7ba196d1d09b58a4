"""Hostile input to every POST of the trading service, on PostgreSQL by default: each is refused with a 4xx in
the contract's error shape, and afterwards nothing is stored, no money moved or is held (every party's balances
are what they were) and the lists still answer. Filters, paging, heights, hashes and ids in the query and path:
a 4xx, never a 500."""

import json

import pytest

from apps.trading.facade import account_balances
from apps.trading.models import Entry, TradeAgreement, TradeEvent, TradeMatch, TradeRequest, TradeSettlement
from apps.trading.services.blocks import block_seal
from tests import hostile
from tests.accounts import factories as accounts_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")

REQUEST = {"trade_type": "compute", "title": "10 H100 hours", "requirements": {"gpu_model": "H100", "min_vram_gb": 80},
           "budget": "20", "regions": ["eu"], "window_end": "2030-01-02T00:00:00Z"}  # fmt: skip
OFFER = {"price": "10", "specification": {"gpu_model": "NVIDIA H100", "vram_gb": 80}, "region": "eu", "message": "hi"}
IN_MILESTONES = {**OFFER, "settlement": "milestones", "milestones": [{"title": "half", "amount": "5"},
                                                                     {"title": "rest", "amount": "5"}]}  # fmt: skip
# a valid body per endpoint ("{...}" in the path: the world's objects), who sends it, what it answers, and the
# fields hostile values go into: strings first, then numbers (free-form objects that logic reads included)
ENDPOINTS = {
    "transfer": ("/v1/transfers", "buyer", {"to_principal_id": "{seller_id}", "amount": "1", "memo": "thanks"}, 201,
                 ("memo", "amount")),
    "credit": ("/v1/ledger/credits", "admin", {"principal_id": "{buyer_id}", "amount": "1", "memo": "top-up"}, 201,
               ("memo", "amount")),
    "request": ("/v1/trading/requests", "buyer", REQUEST, 201,
                ("title", "requirements.note", "regions.0", "budget", "requirements.min_vram_gb")),
    "match": ("/v1/trading/requests/{open_request}/matches", "other_seller", OFFER, 201,
              ("message", "specification.note", "price", "specification.vram_gb")),
    "match_in_milestones": ("/v1/trading/requests/{open_request}/matches", "other_seller", IN_MILESTONES, 201,
                            ("milestones.0.title", "milestones.1.amount")),
    "counter": ("/v1/trading/matches/{match}/counter", "buyer", {"price": "9", "message": "less?"}, 200,
                ("message", "price")),
    "settle": ("/v1/trading/agreements/{agreement}/settlements", "buyer", {"amount": "5"}, 201,
               ("milestone_id", "amount")),
}  # fmt: skip
HOSTILE = [(endpoint, field) for endpoint, (*_, fields) in ENDPOINTS.items() for field in fields]
YEAR_10000_UTC = '"9999-12-31T23:59:59-05:00"'
BEYOND = {  # (endpoint, field, raw JSON): beyond storage or the ledger, or the wrong type where logic reads
    "transfer_beyond_the_ledger": ("transfer", "amount", '"100000000000"'),
    "transfer_as_a_huge_number": ("transfer", "amount", "1e12"),
    "transfer_nine_decimals": ("transfer", "amount", '"1.000000001"'),
    "transfer_memo_longer_than_its_column": ("transfer", "memo", json.dumps("m" * 501)),
    "transfer_to_a_number": ("transfer", "to_principal_id", "123"),
    "transfer_to_other_digits": ("transfer", "to_principal_id", '"\u00b2"'),
    "credit_beyond_the_ledger": ("credit", "amount", '"10000000000"'),
    "request_window_end_in_year_10000_utc": ("request", "window_end", YEAR_10000_UTC),
    "request_window_end_naive": ("request", "window_end", '"2030-01-01T00:00:00"'),
    "request_window_start_naive_end_aware": ("request", "window_start", '"2029-12-01T00:00:00"'),
    "request_window_start_in_year_1": ("request", "window_start", '"0001-01-01T00:00:00Z"'),
    "request_budget_beyond_the_ledger": ("request", "budget", '"100000000000"'),
    "request_min_vram_as_text": ("request", "requirements.min_vram_gb", '"24"'),
    "request_min_vram_beyond_any_gpu": ("request", "requirements.min_vram_gb", "1e20"),
    "request_min_vram_null": ("request", "requirements.min_vram_gb", "null"),
    "request_gpu_count_a_bool": ("request", "requirements.gpu_count", "true"),
    "request_models_not_text": ("request", "requirements.models", "[1, {}]"),
    "request_models_not_a_list": ("request", "requirements.models", '"gpt"'),
    "request_requirements_not_an_object": ("request", "requirements", "[]"),
    "request_region_longer_than_its_column": ("request", "regions.0", json.dumps("r" * 65)),
    "request_regions_not_a_list": ("request", "regions", '"eu"'),
    "request_title_longer_than_its_column": ("request", "title", json.dumps("t" * 201)),
    "match_vram_as_text": ("match", "specification.vram_gb", '"80"'),
    "match_models_not_a_list": ("match", "specification.models", '{"a": 1}'),
    "match_specification_not_an_object": ("match", "specification", '"H100"'),
    "match_price_beyond_the_ledger": ("match", "price", '"100000000000"'),
    "match_region_longer_than_its_column": ("match", "region", json.dumps("r" * 65)),
    "match_message_longer_than_its_column": ("match", "message", json.dumps("m" * 1001)),
    "milestone_beyond_the_ledger": ("match_in_milestones", "milestones.1.amount", '"100000000000"'),
    "counter_price_exponent": ("counter", "price", '"1e400"'),
    "counter_settlement_unknown": ("counter", "settlement", '"barter"'),
    "settle_beyond_the_ledger": ("settle", "amount", '"100000000000"'),
    "settle_negative": ("settle", "amount", '"-1"'),
    "settle_milestone_in_other_digits": ("settle", "milestone_id", '"\u00b2"'),
}
LISTS = ("/v1/trading/requests", "/v1/trading/requests/{open_request}/matches", "/v1/trading/agreements",
         "/v1/trading/settlements", "/v1/trading/analytics", "/v1/transactions", "/v1/accounts/me/entries",
         "/v1/explorer/blocks", "/v1/explorer/receipts", "/blocks", "/receipts")  # fmt: skip
PAGED = [path for path in LISTS if path != "/v1/trading/analytics"]
PAGING = [("limit", "\u00b2"), ("limit", "9" * 5000), ("limit", "0"), ("limit", "501"), ("offset", "-1"),
          ("offset", "9" * 5000), ("offset", "\u0661"), ("limit", "NaN")]  # fmt: skip
IDS = ["\u00b2", "9" * 5000, "a\x00b", "00000000-0000-0000-0000-00000000000\u00b2"]
ID_PATHS = [("post", "/v1/trading/requests/{}/cancel"), ("post", "/v1/trading/matches/{}/accept"),
            ("post", "/v1/trading/matches/{}/reject"), ("post", "/v1/trading/agreements/{}/cancel"),
            ("post", "/v1/trading/agreements/{}/settlements"), ("post", "/v1/trading/requests/{}/matches"),
            ("get", "/v1/trading/requests/{}/matches"), ("get", "/v1/trading/matches/{}"),
            ("get", "/v1/trading/agreements/{}"), ("get", "/v1/explorer/receipts/{}")]  # fmt: skip
BLOCKS = [("\u00b2", 422), ("\u0661", 422), ("-1", 422), ("1.5", 422), ("a\x00b", 422), ("9" * 30, 404),
          ("9" * 5000, 404), ("0" * 40 + "7", 404)]  # fmt: skip
QUERIES = [("/v1/explorer/receipts", "job_id", "NaN"), ("/v1/explorer/receipts", "miner_id", "\u00b2"),
           ("/v1/explorer/receipts", "client_id", "a\x00b"), ("/v1/explorer/export", "from_height", "9" * 30),
           ("/v1/explorer/export", "from_height", "\u00b2"), ("/v1/explorer/export", "from_height", "-1"),
           ("/v1/explorer/export", "limit", "501"), ("/v1/trading/requests", "status", "NaN"),
           ("/v1/trading/requests", "status", "OPEN\x00"), ("/v1/trading/requests", "mine", "\u00b2")]  # fmt: skip


class Party:
    """A principal calling the trading service with its key: a GET, or a POST of raw JSON text."""

    def __init__(self, api, principal, key):
        self.http, self.principal, self.key = api("trading", key), principal, key

    @property
    def id(self):
        return self.principal.id

    def call(self, method, path, body=None):
        if method == "get":
            return self.http.get(path)
        return self.http.post(path, body or "{}")


@pytest.fixture
def world(api):
    """A funded buyer, two sellers and an admin; an open request with the seller's offer on it, and an agreement
    (held in escrow) on another request; and one sealed block."""
    people = {
        "buyer": Party(api, *trading_factories.funded_client("100")),
        "seller": Party(api, *accounts_factories.principal("miner")),
        "other_seller": Party(api, *accounts_factories.principal("miner")),
        "admin": Party(api, *accounts_factories.principal("admin")),
    }
    buyer, seller = people["buyer"], people["seller"]
    open_request = buyer.call("post", "/v1/trading/requests", json.dumps(REQUEST)).json()["request_id"]
    match = seller.call("post", f"/v1/trading/requests/{open_request}/matches", json.dumps(OFFER)).json()["match_id"]
    agreed = buyer.call("post", "/v1/trading/requests", json.dumps(REQUEST)).json()["request_id"]
    offered = seller.call("post", f"/v1/trading/requests/{agreed}/matches", json.dumps(OFFER)).json()["match_id"]
    agreement = buyer.call("post", f"/v1/trading/matches/{offered}/accept").json()["agreement_id"]
    block_seal()
    names = {"open_request": open_request, "match": match, "agreement": agreement,
             "buyer_id": buyer.id, "seller_id": seller.id}  # fmt: skip
    return {**people, "names": names}


def filled(world, text: str) -> str:
    for name, value in world["names"].items():
        text = text.replace("{" + name + "}", str(value))
    return text


def sent(world, endpoint: str, text: str):
    path, who, *_ = ENDPOINTS[endpoint]
    return world[who].call("post", filled(world, path), filled(world, text))


def state(world) -> tuple:
    """What a refused request must leave as it was: every stored row count, balances, the match's terms and the
    agreement's settlement."""
    models = (Entry, TradeRequest, TradeMatch, TradeAgreement, TradeSettlement, TradeEvent)
    match = TradeMatch.objects.get(id=world["names"]["match"])
    agreement = TradeAgreement.objects.get(id=world["names"]["agreement"])
    balances = [account_balances(world[who].id) for who in ("buyer", "seller", "other_seller", "admin")]
    return (
        [model.objects.count() for model in models],
        balances,
        (match.price, match.rounds, match.message),
        (agreement.status, agreement.settled_amount),
    )


def assert_lists_answer(world) -> None:
    for path in LISTS:
        response = world["buyer"].call("get", filled(world, path))
        assert response.status_code == 200, (path, response.content[:300])
        assert "items" in response.json() or path == "/v1/trading/analytics"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_control_each_valid_body_does_its_work(world, endpoint):
    """Given the valid bodies the hostile ones are made from, they are not refused: so a refusal below is the
    hostile value's."""
    _, _, body, status, _ = ENDPOINTS[endpoint]
    response = sent(world, endpoint, json.dumps(body))
    assert response.status_code == status, response.content[:500]


@pytest.mark.parametrize("kind", hostile.ALL)
@pytest.mark.parametrize(("endpoint", "field"), HOSTILE)
def test_a_hostile_value_in_any_field_is_refused_and_changes_nothing(world, endpoint, field, kind):
    before = state(world)
    response = sent(world, endpoint, hostile.body_with(ENDPOINTS[endpoint][2], field, hostile.ALL[kind]))
    hostile.assert_refused(response, 422)
    assert state(world) == before
    assert_lists_answer(world)


@pytest.mark.parametrize("case", BEYOND)
def test_a_value_beyond_storage_or_of_the_wrong_type_is_refused_before_any_money_moves(world, case):
    endpoint, field, raw = BEYOND[case]
    before = state(world)
    response = sent(world, endpoint, hostile.body_with(ENDPOINTS[endpoint][2], field, raw))
    hostile.assert_refused(response, 422)
    assert state(world) == before
    assert_lists_answer(world)


def test_unknown_keys_in_requirements_and_specifications_are_kept(world):
    body = {**REQUEST, "requirements": {**REQUEST["requirements"], "cooling": {"liquid": True}}}
    created = sent(world, "request", json.dumps(body))
    assert created.status_code == 201, created.content
    assert created.json()["requirements"] == {"gpu_model": "H100", "min_vram_gb": 80, "cooling": {"liquid": True}}


@pytest.mark.parametrize("endpoint", ["transfer", "credit"])
def test_an_idempotency_key_beyond_its_bounds_is_refused_and_moves_nothing(world, endpoint):
    path, who, body, *_ = ENDPOINTS[endpoint]
    before = state(world)
    headers = {"Idempotency-Key": "k" * 200}
    response = world[who].http.post(path, filled(world, json.dumps(body)), headers=headers)
    hostile.assert_refused(response, 422)
    assert state(world) == before


@pytest.mark.parametrize(("name", "value"), PAGING)
@pytest.mark.parametrize("path", PAGED)
def test_a_hostile_paging_parameter_is_a_4xx(world, path, name, value):
    response = world["buyer"].http.get(filled(world, path), {name: value})
    hostile.assert_refused(response)


@pytest.mark.parametrize(("path", "name", "value"), QUERIES)
def test_a_hostile_filter_is_a_4xx(world, path, name, value):
    response = world["buyer"].http.get(path, {name: value})
    hostile.assert_refused(response)


@pytest.mark.parametrize("object_id", IDS)
@pytest.mark.parametrize(("method", "path"), ID_PATHS)
def test_a_hostile_id_in_the_path_is_a_4xx_and_changes_nothing(world, method, path, object_id):
    before = state(world)
    hostile.assert_refused(world["buyer"].call(method, path.format(object_id)))
    assert state(world) == before


@pytest.mark.parametrize(("ident", "status"), BLOCKS)
@pytest.mark.parametrize("path", ["/v1/explorer/blocks/{}", "/blocks/{}"])
def test_a_block_height_that_is_not_one_or_beyond_any_is_a_4xx(world, path, ident, status):
    hostile.assert_refused(world["buyer"].call("get", path.format(ident)), status)
    assert world["buyer"].call("get", path.format("0")).json()["height"] == 0


@pytest.mark.parametrize("tx_hash", ["\u00b2", "9" * 5000, "a\x00b", "\u0661" * 64, "a" * 64 + "\n"])
@pytest.mark.parametrize("path", ["/v1/explorer/transactions/{}", "/transactions/{}"])
def test_a_transaction_hash_that_is_not_one_is_a_4xx(world, path, tx_hash):
    hostile.assert_refused(world["buyer"].call("get", path.format(tx_hash)))
