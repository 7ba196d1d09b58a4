"""The trade life cycle over HTTP: request, scored offers, counter-terms, agreement, settlement."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.trading.facade import account_balances
from apps.trading.models import Entry, TradeMatch, TradeSettlement
from tests.accounts import factories as accounts_factories
from tests.gpu import factories as gpu_factories
from tests.runs import runs
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")
REQUIREMENTS = {"gpu_model": "H100", "min_vram_gb": 80, "hours": 10}
SPEC = {"gpu_model": "NVIDIA H100 80GB", "vram_gb": 80, "hours": 10}


class Party:
    """A principal trading through the trading service with its key."""

    def __init__(self, api, principal, key):
        self.http, self.principal, self.key = api("trading", key), principal, key

    @property
    def id(self):
        return self.principal.id

    def post(self, path, body=None):
        return self.http.post(f"/v1/trading{path}", body)

    def get(self, path):
        return self.http.get(path)


@pytest.fixture
def buyer(api):
    return Party(api, *trading_factories.funded_client("100"))


def seller(api, role="miner"):
    return Party(api, *accounts_factories.principal(role))


def open_request(buyer, budget="20", regions=("eu",)):
    body = {"trade_type": "compute", "title": "10 H100 hours", "requirements": REQUIREMENTS, "budget": budget,
            "regions": list(regions)}  # fmt: skip
    response = buyer.post("/requests", body)
    assert response.status_code == 201, response.content
    return response.json()["request_id"]


def offer(party, request_id, price="10", **terms):
    body = {"price": price, "specification": SPEC, "region": "eu", **terms}
    return party.post(f"/requests/{request_id}/matches", body)


def test_offers_are_scored_and_the_accepted_one_is_paid_through_escrow_once(api, buyer):
    request_id = open_request(buyer)
    cheap, dear = seller(api), seller(api)
    cheap_match = offer(cheap, request_id, "8").json()
    offer(dear, request_id, "16")
    ranked = buyer.get(f"/v1/trading/requests/{request_id}/matches").json()["items"]
    assert [m["seller_id"] for m in ranked] == [str(cheap.id), str(dear.id)]
    assert set(cheap_match["score_breakdown"]["parts"]) == {"price", "fit", "reputation", "region"}
    assert cheap_match["score_breakdown"]["parts"]["fit"] == 1.0

    agreement = buyer.post(f"/matches/{cheap_match['match_id']}/accept")
    assert agreement.status_code == 201
    agreement = agreement.json()
    assert (agreement["status"], agreement["price"], agreement["settlement"]) == ("ACTIVE", "8.00000000", "escrow")
    assert account_balances(buyer.id)["held"] == Decimal(8)
    assert TradeMatch.objects.get(seller_id=dear.id).status == "REJECTED"

    for _ in range(3):
        settled = buyer.post(f"/agreements/{agreement['agreement_id']}/settlements", {})
        assert settled.status_code == 201
    assert TradeSettlement.objects.count() == 1
    assert Entry.objects.filter(kind="trade_payment").count() == 1
    assert account_balances(buyer.id) | {"principal_id": 0} == {
        "principal_id": 0, "balance": Decimal(92), "held": 0, "available": Decimal(92)
    }  # fmt: skip
    assert account_balances(cheap.id)["balance"] == Decimal("7.8")  # 8 - 2.5 % fee
    assert buyer.get(f"/v1/trading/agreements/{agreement['agreement_id']}").json()["status"] == "SETTLED"


def test_milestones_must_add_up_and_are_paid_one_by_one(api, buyer):
    request_id = open_request(buyer)
    party = seller(api)
    wrong = offer(party, request_id, "10", settlement="milestones", milestones=[{"title": "a", "amount": "4"}])
    assert wrong.status_code == 422
    assert "add up to 4.00000000 but the price is 10.00000000" in wrong.json()["detail"]
    milestones = [{"title": "setup", "amount": "4"}, {"title": "run", "amount": "6"}]
    match = offer(party, request_id, "10", settlement="milestones", milestones=milestones).json()
    agreement = buyer.post(f"/matches/{match['match_id']}/accept").json()
    first, second = agreement["milestones"]
    assert buyer.post(f"/agreements/{agreement['agreement_id']}/settlements", {}).status_code == 422
    buyer.post(f"/agreements/{agreement['agreement_id']}/settlements", {"milestone_id": first["milestone_id"]})
    halfway = buyer.get(f"/v1/trading/agreements/{agreement['agreement_id']}").json()
    assert (halfway["status"], halfway["settled_amount"]) == ("ACTIVE", "4.00000000")
    assert account_balances(buyer.id)["held"] == Decimal(6)
    buyer.post(f"/agreements/{agreement['agreement_id']}/settlements", {"milestone_id": second["milestone_id"]})
    done = buyer.get(f"/v1/trading/agreements/{agreement['agreement_id']}").json()
    assert (done["status"], done["settled_amount"]) == ("SETTLED", "10.00000000")


def test_counter_terms_go_back_and_forth_until_the_other_side_accepts(api, buyer):
    request_id = open_request(buyer)
    party = seller(api)
    match_id = offer(party, request_id, "15").json()["match_id"]
    countered = buyer.post(f"/matches/{match_id}/counter", {"price": "12"}).json()
    assert (countered["status"], countered["proposed_by"], countered["rounds"]) == ("COUNTERED", "buyer", 2)
    own = buyer.post(f"/matches/{match_id}/accept")
    assert (own.status_code, own.json()["code"]) == (409, "own_terms")
    # nor may the buyer change its terms while the seller answers them: the accept below pays what it read
    changed = buyer.post(f"/matches/{match_id}/counter", {"price": "1", "settlement": "immediate"})
    assert (changed.status_code, changed.json()["code"]) == (409, "own_terms")
    agreement = party.post(f"/matches/{match_id}/accept").json()
    assert agreement["price"] == "12.00000000"
    again = party.post(f"/matches/{match_id}/accept")
    assert (again.status_code, again.json()["code"]) == (409, "match_accepted")


def test_an_expired_match_cannot_be_accepted(api, buyer):
    request_id = open_request(buyer)
    match_id = offer(seller(api), request_id).json()["match_id"]
    TradeMatch.objects.filter(id=match_id).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = buyer.post(f"/matches/{match_id}/accept")
    assert (response.status_code, response.json()["code"]) == (409, "match_expired")


def test_settling_more_than_agreed_is_409_and_only_the_buyer_may_settle(api, buyer):
    request_id = open_request(buyer)
    party = seller(api)
    agreement_id = buyer.post(f"/matches/{offer(party, request_id, '10').json()['match_id']}/accept").json()[
        "agreement_id"
    ]
    too_much = buyer.post(f"/agreements/{agreement_id}/settlements", {"amount": "11"})
    assert (too_much.status_code, too_much.json()["code"]) == (409, "over_settlement")
    assert party.post(f"/agreements/{agreement_id}/settlements", {}).status_code == 403
    stranger = seller(api, "client")
    assert stranger.post(f"/agreements/{agreement_id}/settlements", {}).status_code == 404
    assert stranger.get(f"/v1/trading/agreements/{agreement_id}").status_code == 404
    partial = buyer.post(f"/agreements/{agreement_id}/settlements", {"amount": "6"}).json()
    assert partial["amount"] == "6.00000000"
    assert account_balances(buyer.id) | {"principal_id": 0} == {
        "principal_id": 0, "balance": Decimal(94), "held": 0, "available": Decimal(94)
    }  # fmt: skip


def test_an_immediate_agreement_pays_on_acceptance(api, buyer):
    request_id = open_request(buyer)
    party = seller(api)
    agreement = buyer.post(
        f"/matches/{offer(party, request_id, '10', settlement='immediate').json()['match_id']}/accept"
    )
    assert agreement.json()["status"] == "SETTLED"
    assert account_balances(party.id)["balance"] == Decimal("9.75")


def test_a_buyer_who_cannot_pay_gets_402_and_nothing_changes(api):
    poor = Party(api, *trading_factories.funded_client("5"))
    request_id = open_request(poor)
    match_id = offer(seller(api), request_id, "10").json()["match_id"]
    response = poor.post(f"/matches/{match_id}/accept")
    assert response.status_code == 402
    assert TradeMatch.objects.get(id=match_id).status == "PROPOSED"
    assert account_balances(poor.id)["held"] == 0


def test_a_seller_walking_away_releases_the_buyer_s_money_and_costs_reputation(api, buyer):
    party = seller(api)
    first_request = open_request(buyer)
    before = offer(party, first_request, "10").json()["score_breakdown"]["parts"]["reputation"]
    agreement_id = buyer.post(f"/matches/{TradeMatch.objects.get(seller_id=party.id).id}/accept").json()["agreement_id"]
    assert party.post(f"/agreements/{agreement_id}/cancel").json()["status"] == "CANCELED"
    assert account_balances(buyer.id)["held"] == 0
    after = offer(party, open_request(buyer), "10").json()["score_breakdown"]["parts"]["reputation"]
    assert after < before


def test_settled_trades_raise_a_seller_s_reputation_and_so_its_score(api, buyer):
    party = seller(api)
    first = offer(party, open_request(buyer), "10").json()
    agreement_id = buyer.post(f"/matches/{first['match_id']}/accept").json()["agreement_id"]
    buyer.post(f"/agreements/{agreement_id}/settlements", {})
    second = offer(party, open_request(buyer), "10").json()
    assert second["score_breakdown"]["parts"]["reputation"] > first["score_breakdown"]["parts"]["reputation"]
    assert second["score"] > first["score"]
    assert second["score_breakdown"]["seller_record"]["trades_settled"] == 1


def test_a_seller_whose_offer_claims_a_perfect_record_ranks_below_one_with_a_better_record_the_platform_saw(api, buyer):
    """Given a seller whose miner completed 2 runs and reported 1 failure, and one whose miner completed 2 but
    never reported a failure: it let a lease run out, held a job past its TTL and deregistered mid-run, and its
    offer's specification says it is perfect. Then the platform's record, not the claim, scores the two."""
    honest, boaster = seller(api), seller(api)
    client, _ = trading_factories.funded_client("100")
    runs(gpu_factories.miner(who=honest.principal), client, "completed", "completed", "failed")
    silent = gpu_factories.miner(who=boaster.principal)
    runs(silent, client, "completed", "completed", "lease_lost", "expired", "miner_left")
    request_id = open_request(buyer)
    claim = {**SPEC, "reputation": 1.0, "success_rate": 1.0, "jobs_completed": 10_000, "jobs_failed": 0}
    boasting = offer(boaster, request_id, "10", specification=claim).json()
    honest_offer = offer(honest, request_id, "10").json()

    assert boasting["score_breakdown"]["seller_record"] == {
        "jobs_completed": 2, "jobs_failed": 3, "trades_settled": 0, "trades_canceled": 0
    }  # fmt: skip
    assert boasting["score_breakdown"]["parts"]["reputation"] == pytest.approx(3 / 7, abs=1e-4)
    assert honest_offer["score_breakdown"]["parts"]["reputation"] == pytest.approx(3 / 5, abs=1e-4)
    assert boasting["score"] < honest_offer["score"]


def test_analytics_status_and_the_event_log_come_from_stored_trades(api, buyer):
    party = seller(api)
    request_id = open_request(buyer)
    open_request(buyer)
    agreement_id = buyer.post(f"/matches/{offer(party, request_id, '10').json()['match_id']}/accept").json()[
        "agreement_id"
    ]
    buyer.post(f"/agreements/{agreement_id}/settlements", {})
    analytics = buyer.get("/v1/trading/analytics").json()
    assert (analytics["requests"], analytics["agreements"], analytics["match_rate"]) == (2, 1, 0.5)
    assert analytics["settled_volume"] == "10.00000000"
    assert analytics["by_trade_type"][0]["average_price"] == "10.00000000"
    status = buyer.get("/trading/status").json()
    assert status["requests"] == {"OPEN": 1, "AGREED": 1} and status["agreements"] == {"SETTLED": 1}
    kinds = [e["kind"] for e in party.get("/v1/transactions").json()["items"]]
    assert kinds == ["settled", "agreement_made", "match_offered"]


@pytest.mark.parametrize(
    "body",
    [
        {"trade_type": "compute", "title": "x", "budget": "0"},
        {"trade_type": "barter", "title": "x", "budget": "1"},
        {"trade_type": "compute", "title": "x", "budget": "1", "status": "AGREED"},
        {"trade_type": "compute", "title": "x", "budget": "1", "window_start": "2026-01-02T00:00:00Z",
         "window_end": "2026-01-01T00:00:00Z"},
    ],
)  # fmt: skip
def test_a_bad_request_is_422(buyer, body):
    assert buyer.post("/requests", body).status_code == 422


def test_a_request_s_matches_are_paged_best_score_first(api, buyer):
    request_id = open_request(buyer)
    for price in ("16", "8", "12"):
        assert offer(seller(api), request_id, price).status_code == 201
    first = buyer.get(f"/v1/trading/requests/{request_id}/matches?limit=2").json()
    assert (first["count"], [m["price"] for m in first["items"]]) == (3, ["8.00000000", "12.00000000"])
    rest = buyer.get(f"/v1/trading/requests/{request_id}/matches?limit=2&offset=2").json()
    assert [m["price"] for m in rest["items"]] == ["16.00000000"]


def test_a_window_given_in_any_timezone_is_stored_in_utc(buyer):
    body = {"trade_type": "compute", "title": "night shift", "budget": "5",
            "window_start": "2030-01-01T22:00:00-05:00", "window_end": "2030-01-02T06:00:00+01:00"}  # fmt: skip
    created = buyer.post("/requests", body).json()
    assert (created["window_start"], created["window_end"]) == ("2030-01-02T03:00:00Z", "2030-01-02T05:00:00Z")
