"""The treasury's guard: one funding proposal moves at most a share of the treasury (refused when proposed,
checked again when executed), and its quorum grows with the amount it asks for. Both are platform
parameters, changed like any other by a parameter proposal."""

from decimal import Decimal

import pytest

from aitbc_site.errors import Conflict, Invalid
from aitbc_site.parameters import parameter_get
from apps.governance.models import Event, Proposal
from apps.governance.selectors import proposal_list, proposal_view
from apps.governance.services.execution import funding_key, proposal_execute
from apps.governance.services.voting import vote_cast
from apps.governance.tasks import close_votes
from apps.governance.treasury import governance_status, treasury_view
from apps.trading.facade import account_balances
from apps.trading.models import AccountKind, Entry
from apps.trading.services.ledger import system_account
from tests.governance.helpers import DAY, elapse, holder, passed, propose

pytestmark = pytest.mark.django_db(databases="__all__")


def treasury() -> Decimal:
    return system_account(AccountKind.TREASURY).balance


def grant(to, amount) -> dict:
    return {"to_principal_id": str(to.id), "amount": str(amount)}


def parameter_changed(voter, name: str, value: int) -> None:
    """`name` set to `value` the normal way: a parameter proposal that passes and is executed."""
    proposal = passed(propose(voter, "parameter", {"parameter": name, "value": value}), voter)
    proposal_execute(executor=voter, proposal_id=proposal.id)
    assert parameter_get(name) == value


def test_the_defaults_are_cautious_and_in_force():
    assert (parameter_get("treasury_max_share_bps"), parameter_get("funding_quorum_bps")) == (1000, 10000)
    rules = governance_status()["rules"]
    assert (rules["funding_max_share_bps"], rules["funding_quorum"]) == (1000, "max(quorum, amount x 10000 / 10000)")
    assert Decimal(treasury_view()["max_per_proposal"]) == (treasury() / 10).quantize(Decimal("0.00000001"))


def test_a_proposal_for_half_the_treasury_is_422_and_nothing_is_stored(api):
    proposer, key = holder("1000")
    recipient, _ = holder()
    half = (treasury() / 2).quantize(Decimal("0.00000001"))
    body = {"title": "Half of it", "category": "funding", "execution_payload": grant(recipient, half)}
    refused = api("governance", key).post("/v1/governance/proposals", body)
    assert refused.status_code == 422
    assert refused.json()["code"] == "treasury_share_exceeded"
    assert "may move at most 10% of the treasury" in refused.json()["detail"]
    assert f"asks for {half:f} AIT" in refused.json()["detail"]
    assert Proposal.objects.count() == 0
    assert not Event.objects.filter(kind="proposed").exists()


def test_the_share_is_a_hard_edge_at_the_limit():
    proposer, _ = holder("1000")
    recipient, _ = holder()
    limit = Decimal(treasury_view()["max_per_proposal"])
    with pytest.raises(Invalid, match="may move at most 10% of the treasury") as refused:
        propose(proposer, "funding", grant(recipient, limit + Decimal("0.00000001")))
    assert refused.value.code == "treasury_share_exceeded"
    assert Proposal.objects.count() == 0
    assert propose(proposer, "funding", grant(recipient, limit)).quorum == limit  # the largest allowed


def test_a_large_allowed_grant_with_only_the_base_quorum_cast_is_defeated_and_pays_nothing():
    voter, _ = holder("1000")  # exactly the base quorum
    recipient, _ = holder()
    proposal = propose(voter, "funding", grant(recipient, "50000"))  # far below 10% of the treasury
    assert proposal_view(proposal)["quorum"] == "50000.00000000"  # 100% of the amount, not the base 1000
    before = treasury()
    elapse(proposal, DAY)
    vote_cast(voter=voter, proposal_id=proposal.id, choice="for")
    elapse(proposal, 9 * DAY)
    assert close_votes() == 1  # the beat tallies it
    stored = Proposal.objects.get(id=proposal.id)
    assert stored.status == "DEFEATED"
    assert proposal_view(stored)["quorum_reached"] is False
    assert [p["proposal_id"] for p in proposal_list(status="DEFEATED")[1]] == [proposal.id]
    with pytest.raises(Conflict, match="this one is DEFEATED"):
        proposal_execute(executor=voter, proposal_id=proposal.id)
    assert treasury() == before
    assert account_balances(recipient.id)["balance"] == 0
    assert not Entry.objects.filter(key=funding_key(proposal.id)).exists()


@pytest.mark.parametrize(
    ("second_vote", "status"),
    [
        ("1500", "SUCCEEDED"),  # 3000 cast: exactly the amount asked for
        ("1499.99999999", "DEFEATED"),  # one hundred-millionth short, though three times the base quorum
    ],
)
def test_a_grant_needs_its_amount_cast(second_vote, status):
    voters = [holder("1500")[0], holder(second_vote)[0]]
    recipient, _ = holder()
    proposal = passed(propose(voters[0], "funding", grant(recipient, "3000")), *voters)
    assert proposal_view(proposal)["status"] == status


def test_a_grant_within_the_limits_with_enough_votes_pays_exactly_once():
    voters = [holder("2000")[0], holder("1500")[0]]
    recipient, _ = holder()
    before = treasury()
    proposal = passed(propose(voters[0], "funding", grant(recipient, "3000")), *voters)
    assert (proposal_view(proposal)["status"], proposal_view(proposal)["quorum"]) == ("SUCCEEDED", "3000.00000000")
    executed = proposal_execute(executor=recipient, proposal_id=proposal.id)
    assert executed.execution_result["amount"] == "3000.00000000"
    with pytest.raises(Conflict, match="already executed"):
        proposal_execute(executor=voters[1], proposal_id=proposal.id)
    assert account_balances(recipient.id)["balance"] == Decimal(3000)
    assert treasury() == before - Decimal(3000)
    assert Entry.objects.filter(key=funding_key(proposal.id)).count() == 1


def test_changing_the_parameters_by_proposal_changes_the_limits():
    voter, _ = holder("1000")
    recipient, _ = holder()
    fifteen_percent = (treasury() * Decimal("0.15")).quantize(Decimal("0.00000001"))
    with pytest.raises(Invalid, match="at most 10% of the treasury"):
        propose(voter, "funding", grant(recipient, fifteen_percent))
    made_before = propose(voter, "funding", grant(recipient, "4000"))
    assert made_before.quorum == Decimal(4000)

    parameter_changed(voter, "treasury_max_share_bps", 2000)
    parameter_changed(voter, "funding_quorum_bps", 5000)

    assert propose(voter, "funding", grant(recipient, fifteen_percent)).quorum == fifteen_percent / 2
    with pytest.raises(Invalid, match="at most 20% of the treasury"):
        propose(voter, "funding", grant(recipient, (treasury() * Decimal("0.21")).quantize(Decimal("1"))))
    assert propose(voter, "funding", grant(recipient, "4000")).quorum == Decimal(2000)
    assert propose(voter, "funding", grant(recipient, "1500")).quorum == Decimal(1000)  # never below the base
    assert Proposal.objects.get(id=made_before.id).quorum == Decimal(4000)  # fixed when it was made


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("treasury_max_share_bps", 5000, "between 1 and 2500, not 5000"),  # half the treasury: never
        ("treasury_max_share_bps", 0, "between 1 and 2500, not 0"),
        ("funding_quorum_bps", 4999, "between 5000 and 100000, not 4999"),  # less than half the amount: never
    ],
)
def test_the_guard_cannot_be_voted_away(name, value, message):
    proposer, _ = holder("1000")
    with pytest.raises(Invalid, match=message):
        propose(proposer, "parameter", {"parameter": name, "value": value})
    assert Proposal.objects.count() == 0
