"""The governance service over HTTP: status codes, bad input, and what each endpoint reports."""

import uuid

import pytest

from apps.governance.models import Proposal
from tests.governance.helpers import DAY, elapse, holder

pytestmark = pytest.mark.django_db(databases="__all__")
FEE_UP = {"title": "Raise the fee", "category": "parameter",
          "execution_payload": {"parameter": "platform_fee_bps", "value": 400}}  # fmt: skip


def test_propose_vote_and_read_the_tallies(api):
    _, alice_key = holder("800")
    _, bob_key = holder("300")
    created = api("governance", alice_key).post("/v1/governance/proposals", FEE_UP)
    assert created.status_code == 201
    view = created.json()
    assert (view["status"], view["quorum"], view["proposer_power"]) == ("PENDING", "1000.00000000", "800.00000000")
    early = api("governance", alice_key).post(f"/v1/governance/proposals/{view['proposal_id']}/votes", {"vote": "for"})
    assert (early.status_code, early.json()["code"]) == (409, "voting_closed")
    elapse(Proposal.objects.get(id=view["proposal_id"]), DAY)
    votes_path = f"/v1/governance/proposals/{view['proposal_id']}/votes"
    assert (
        api("governance", alice_key).post(votes_path, {"vote": "for", "reason": "miners can bear it"}).status_code
        == 201
    )
    assert api("governance", bob_key).post(votes_path, {"vote": "against"}).status_code == 201
    again = api("governance", bob_key).post(votes_path, {"vote": "for"})
    assert (again.status_code, again.json()["code"]) == (409, "already_voted")
    shown = api("governance", bob_key).get(f"/v1/governance/proposals/{view['proposal_id']}").json()
    assert (shown["for_votes"], shown["against_votes"], shown["abstain_votes"]) == (
        "800.00000000", "300.00000000", "0.00000000")  # fmt: skip
    assert (shown["status"], shown["quorum_reached"], shown["voters"]) == ("ACTIVE", True, 2)
    votes = api("governance", bob_key).get(votes_path).json()
    assert [(v["vote"], v["weight"]) for v in votes["items"]] == [("for", "800.00000000"), ("against", "300.00000000")]
    listed = api("governance", bob_key).get("/v1/governance/proposals?status=ACTIVE").json()
    assert [p["proposal_id"] for p in listed["items"]] == [view["proposal_id"]]
    assert api("governance", bob_key).get("/v1/governance/proposals?status=PENDING").json()["count"] == 0


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
def test_bad_proposals_are_422_and_create_nothing(api, body, status, words):
    _, key = holder("1000")
    response = api("governance", key).post("/v1/governance/proposals", body)
    assert response.status_code == status
    assert words in response.json()["detail"]
    assert Proposal.objects.count() == 0


def test_below_100_voting_power_proposing_is_403(api):
    _, key = holder("5")
    response = api("governance", key).post("/v1/governance/proposals", FEE_UP)
    assert (response.status_code, response.json()["code"]) == (403, "below_proposal_threshold")


def test_a_proposal_with_the_same_idempotency_key_is_made_once(api):
    _, key = holder("1000")
    first = api("governance", key).post("/v1/governance/proposals", FEE_UP, headers={"Idempotency-Key": "p-1"})
    second = api("governance", key).post("/v1/governance/proposals", FEE_UP, headers={"Idempotency-Key": "p-1"})
    assert first.json()["proposal_id"] == second.json()["proposal_id"]
    assert Proposal.objects.count() == 1


def test_execute_early_is_409_then_anyone_executes_once(api):
    _, key = holder("1000")
    _, anyone = holder()
    proposal_id = api("governance", key).post("/v1/governance/proposals", FEE_UP).json()["proposal_id"]
    proposal = elapse(Proposal.objects.get(id=proposal_id), DAY)
    api("governance", key).post(f"/v1/governance/proposals/{proposal_id}/votes", {"vote": "for"})
    elapse(proposal, 7 * DAY)
    early = api("governance", anyone).post(f"/v1/governance/proposals/{proposal_id}/execute")
    assert (early.status_code, early.json()["code"]) == (409, "timelocked")
    elapse(proposal, 2 * DAY)
    done = api("governance", anyone).post(f"/v1/governance/proposals/{proposal_id}/execute")
    assert (done.status_code, done.json()["status"]) == (200, "EXECUTED")
    twice = api("governance", key).post(f"/v1/governance/proposals/{proposal_id}/execute")
    assert (twice.status_code, twice.json()["code"]) == (409, "already_executed")
    parameters = api("governance", anyone).get("/v1/governance/parameters").json()["items"]
    assert {p["name"]: p["value"] for p in parameters}["platform_fee_bps"] == 400


def test_unknown_proposals_are_404(api):
    _, key = holder("10")
    missing = uuid.uuid4()
    assert api("governance", key).get(f"/v1/governance/proposals/{missing}").status_code == 404
    assert api("governance", key).post(f"/v1/governance/proposals/{missing}/votes", {"vote": "for"}).status_code == 404
    assert api("governance", key).post(f"/v1/governance/proposals/{missing}/execute").status_code == 404


def test_delegation_moves_power_and_makes_a_delegate(api):
    a, a_key = holder("250")
    b, b_key = holder("50")
    delegated = api("governance", a_key).post("/v1/governance/delegate", {"to_principal_id": str(b.id)})
    assert (delegated.status_code, delegated.json()["delegate_id"]) == (200, str(b.id))
    b_view = api("governance", b_key).get("/v1/governance/profiles/me").json()
    assert (b_view["role"], b_view["delegators"], b_view["voting_power"]["total"]) == ("delegate", 1, "300.00000000")
    assert api("governance", a_key).get("/v1/governance/profiles/me").json()["voting_power"]["total"] == "0.00000000"
    seen_by_b = api("governance", b_key).get(f"/v1/governance/profiles/{a.id}").json()
    assert (seen_by_b["delegate_id"], seen_by_b["voting_power"]) == (str(b.id), None)  # a balance is private
    selfish = api("governance", a_key).post("/v1/governance/delegate", {"to_principal_id": str(a.id)})
    assert selfish.status_code == 422
    unknown = api("governance", a_key).post("/v1/governance/delegate", {"to_principal_id": str(uuid.uuid4())})
    assert unknown.status_code == 422
    assert api("governance", a_key).post("/v1/governance/undelegate").status_code == 200
    assert api("governance", a_key).post("/v1/governance/undelegate").json()["code"] == "not_delegated"
    assert api("governance", b_key).get("/v1/governance/profiles/me").json()["role"] == "member"


def test_admins_are_admin_and_seat_a_council_that_may_cancel(api):
    _, admin_key = holder(role="admin")
    councillor, councillor_key = holder()
    _, client_key = holder()
    _, proposer_key = holder("500")
    assert api("governance", admin_key).get("/v1/governance/profiles/me").json()["role"] == "admin"
    seat = {"role": "council"}
    assert api("governance", client_key).put(f"/v1/governance/profiles/{councillor.id}/role", seat).status_code == 403
    seated = api("governance", admin_key).put(f"/v1/governance/profiles/{councillor.id}/role", seat)
    assert (seated.status_code, seated.json()["role"]) == (200, "council")
    proposal_id = api("governance", proposer_key).post("/v1/governance/proposals", FEE_UP).json()["proposal_id"]
    assert api("governance", client_key).post(f"/v1/governance/proposals/{proposal_id}/cancel").status_code == 403
    canceled = api("governance", councillor_key).post(f"/v1/governance/proposals/{proposal_id}/cancel")
    assert (canceled.status_code, canceled.json()["status"]) == (200, "CANCELED")
    roles = {p["role"] for p in api("governance", client_key).get("/v1/governance/profiles").json()["items"]}
    assert roles == {"admin", "council", "member"}
