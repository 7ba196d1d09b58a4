"""The governance service over HTTP: status codes, bad input, and what each endpoint reports."""

import uuid

import pytest

from apps.governance.models import Proposal
from tests.governance.helpers import DAY, elapse, holder

pytestmark = pytest.mark.django_db(databases="__all__")
FEE_UP = {"title": "Raise the fee", "category": "parameter",
          "execution_payload": {"parameter": "platform_fee_bps", "value": 400}}  # fmt: skip


@pytest.fixture
def gov(service_client):
    client = service_client("governance")

    def call(method, path, key, body=None, **headers):
        kwargs = {"content_type": "application/json"} if body is not None else {}
        return getattr(client, method)(path, body, headers={"Authorization": f"Bearer {key}", **headers}, **kwargs)

    return call


def test_propose_vote_and_read_the_tallies(gov):
    _, alice_key = holder("800")
    _, bob_key = holder("300")
    created = gov("post", "/v1/governance/proposals", alice_key, FEE_UP)
    assert created.status_code == 201
    view = created.json()
    assert (view["status"], view["quorum"], view["proposer_power"]) == ("PENDING", "1000.00000000", "800.00000000")
    early = gov("post", f"/v1/governance/proposals/{view['proposal_id']}/votes", alice_key, {"vote": "for"})
    assert (early.status_code, early.json()["code"]) == (409, "voting_closed")
    elapse(Proposal.objects.get(id=view["proposal_id"]), DAY)
    votes_path = f"/v1/governance/proposals/{view['proposal_id']}/votes"
    assert gov("post", votes_path, alice_key, {"vote": "for", "reason": "miners can bear it"}).status_code == 201
    assert gov("post", votes_path, bob_key, {"vote": "against"}).status_code == 201
    again = gov("post", votes_path, bob_key, {"vote": "for"})
    assert (again.status_code, again.json()["code"]) == (409, "already_voted")
    shown = gov("get", f"/v1/governance/proposals/{view['proposal_id']}", bob_key).json()
    assert (shown["for_votes"], shown["against_votes"], shown["abstain_votes"]) == (
        "800.00000000", "300.00000000", "0.00000000")  # fmt: skip
    assert (shown["status"], shown["quorum_reached"], shown["voters"]) == ("ACTIVE", True, 2)
    votes = gov("get", votes_path, bob_key).json()
    assert [(v["vote"], v["weight"]) for v in votes["items"]] == [("for", "800.00000000"), ("against", "300.00000000")]
    listed = gov("get", "/v1/governance/proposals?status=ACTIVE", bob_key).json()
    assert [p["proposal_id"] for p in listed["items"]] == [view["proposal_id"]]
    assert gov("get", "/v1/governance/proposals?status=PENDING", bob_key).json()["count"] == 0


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({**FEE_UP, "execution_payload": {"parameter": "nope", "value": 1}}, 422, "unknown parameter 'nope'"),
        ({**FEE_UP, "execution_payload": {"parameter": "platform_fee_bps", "value": -1}}, 422, "between 0 and 5000"),
        ({"title": "Fund me", "category": "funding",
          "execution_payload": {"to_principal_id": str(uuid.uuid4()), "amount": "10"}}, 422, "no active principal"),
        ({**FEE_UP, "category": "treasure"}, 422, "category"),
        ({**FEE_UP, "status": "EXECUTED"}, 422, "status"),
        ({**FEE_UP, "title": ""}, 422, "title"),
    ],
)  # fmt: skip
def test_bad_proposals_are_422_and_create_nothing(gov, body, status, words):
    _, key = holder("1000")
    response = gov("post", "/v1/governance/proposals", key, body)
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert Proposal.objects.count() == 0


def test_below_100_voting_power_proposing_is_403(gov):
    _, key = holder("5")
    response = gov("post", "/v1/governance/proposals", key, FEE_UP)
    assert (response.status_code, response.json()["code"]) == (403, "below_proposal_threshold")


def test_a_proposal_with_the_same_idempotency_key_is_made_once(gov):
    _, key = holder("1000")
    first = gov("post", "/v1/governance/proposals", key, FEE_UP, **{"Idempotency-Key": "p-1"})
    second = gov("post", "/v1/governance/proposals", key, FEE_UP, **{"Idempotency-Key": "p-1"})
    assert first.json()["proposal_id"] == second.json()["proposal_id"]
    assert Proposal.objects.count() == 1


def test_execute_early_is_409_then_anyone_executes_once(gov):
    _, key = holder("1000")
    _, anyone = holder()
    proposal_id = gov("post", "/v1/governance/proposals", key, FEE_UP).json()["proposal_id"]
    proposal = elapse(Proposal.objects.get(id=proposal_id), DAY)
    gov("post", f"/v1/governance/proposals/{proposal_id}/votes", key, {"vote": "for"})
    elapse(proposal, 7 * DAY)
    early = gov("post", f"/v1/governance/proposals/{proposal_id}/execute", anyone)
    assert (early.status_code, early.json()["code"]) == (409, "timelocked")
    elapse(proposal, 2 * DAY)
    done = gov("post", f"/v1/governance/proposals/{proposal_id}/execute", anyone)
    assert (done.status_code, done.json()["status"]) == (200, "EXECUTED")
    twice = gov("post", f"/v1/governance/proposals/{proposal_id}/execute", key)
    assert (twice.status_code, twice.json()["code"]) == (409, "already_executed")
    parameters = gov("get", "/v1/governance/parameters", anyone).json()["items"]
    assert {p["name"]: p["value"] for p in parameters}["platform_fee_bps"] == 400


def test_unknown_proposals_are_404(gov):
    _, key = holder("10")
    missing = uuid.uuid4()
    assert gov("get", f"/v1/governance/proposals/{missing}", key).status_code == 404
    assert gov("post", f"/v1/governance/proposals/{missing}/votes", key, {"vote": "for"}).status_code == 404
    assert gov("post", f"/v1/governance/proposals/{missing}/execute", key).status_code == 404


def test_delegation_moves_power_and_makes_a_delegate(gov):
    a, a_key = holder("250")
    b, b_key = holder("50")
    delegated = gov("post", "/v1/governance/delegate", a_key, {"to_principal_id": str(b.id)})
    assert (delegated.status_code, delegated.json()["delegate_id"]) == (200, str(b.id))
    b_view = gov("get", "/v1/governance/profiles/me", b_key).json()
    assert (b_view["role"], b_view["delegators"], b_view["voting_power"]["total"]) == ("delegate", 1, "300.00000000")
    assert gov("get", "/v1/governance/profiles/me", a_key).json()["voting_power"]["total"] == "0.00000000"
    seen_by_b = gov("get", f"/v1/governance/profiles/{a.id}", b_key).json()
    assert (seen_by_b["delegate_id"], seen_by_b["voting_power"]) == (str(b.id), None)  # a balance is private
    selfish = gov("post", "/v1/governance/delegate", a_key, {"to_principal_id": str(a.id)})
    assert selfish.status_code == 422
    unknown = gov("post", "/v1/governance/delegate", a_key, {"to_principal_id": str(uuid.uuid4())})
    assert unknown.status_code == 422
    assert gov("post", "/v1/governance/undelegate", a_key).status_code == 200
    assert gov("post", "/v1/governance/undelegate", a_key).json()["code"] == "not_delegated"
    assert gov("get", "/v1/governance/profiles/me", b_key).json()["role"] == "member"


def test_admins_are_admin_and_seat_a_council_that_may_cancel(gov):
    _, admin_key = holder(role="admin")
    councillor, councillor_key = holder()
    _, client_key = holder()
    _, proposer_key = holder("500")
    assert gov("get", "/v1/governance/profiles/me", admin_key).json()["role"] == "admin"
    seat = {"role": "council"}
    assert gov("put", f"/v1/governance/profiles/{councillor.id}/role", client_key, seat).status_code == 403
    seated = gov("put", f"/v1/governance/profiles/{councillor.id}/role", admin_key, seat)
    assert (seated.status_code, seated.json()["role"]) == (200, "council")
    proposal_id = gov("post", "/v1/governance/proposals", proposer_key, FEE_UP).json()["proposal_id"]
    assert gov("post", f"/v1/governance/proposals/{proposal_id}/cancel", client_key).status_code == 403
    canceled = gov("post", f"/v1/governance/proposals/{proposal_id}/cancel", councillor_key)
    assert (canceled.status_code, canceled.json()["status"]) == (200, "CANCELED")
    roles = {p["role"] for p in gov("get", "/v1/governance/profiles", client_key).json()["items"]}
    assert roles == {"admin", "council", "member"}
