"""Voting power from the ledger at the snapshot, delegation, thresholds, quorum and the voting window."""

from decimal import Decimal

import pytest

from aitbc_site.errors import Conflict, Forbidden
from apps.governance.models import Proposal
from apps.governance.selectors import proposal_view
from apps.governance.services.profiles import delegate_set, delegation_end
from apps.governance.services.proposals import proposal_cancel
from apps.governance.services.voting import vote_cast
from apps.governance.tasks import close_votes
from tests.governance.helpers import DAY, elapse, holder, propose
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def test_proposing_needs_100_voting_power():
    poor, _ = holder("99.99999999")
    with pytest.raises(Forbidden, match="at least 100.00000000 voting power; you have 99.99999999"):
        propose(poor)
    assert Proposal.objects.count() == 0
    rich, _ = holder("100")
    assert propose(rich).status == "PENDING"


def test_delegated_power_lets_a_delegate_propose_and_the_delegator_cannot():
    delegator, _ = holder("80")
    delegate, _ = holder("30")
    delegate_set(principal=delegator, to_principal_id=delegate.id)
    assert propose(delegate).proposer_power == Decimal(110)
    with pytest.raises(Forbidden):
        propose(delegator)


def test_a_vote_weighs_the_balance_at_the_snapshot_not_what_came_after():
    proposer, _ = holder("500")
    voter, _ = holder("300")
    proposal = propose(proposer)
    trading_factories.treasury_credit_to(voter.id, "5000")  # after the snapshot: does not count
    elapse(proposal, DAY)
    vote = vote_cast(voter=voter, proposal_id=proposal.id, choice="against")
    assert vote.weight == Decimal(300)
    assert proposal_view(Proposal.objects.get(id=proposal.id))["against_votes"] == "300.00000000"


def test_someone_who_held_nothing_at_the_snapshot_cannot_vote():
    proposer, _ = holder("500")
    proposal = propose(proposer)
    late, _ = holder("1000")
    elapse(proposal, DAY)
    with pytest.raises(Forbidden, match="no voting power"):
        vote_cast(voter=late, proposal_id=proposal.id, choice="for")
    assert Proposal.objects.get(id=proposal.id).voters == 0


def test_delegation_at_the_snapshot_counts_and_later_changes_do_not():
    a, _ = holder("400")
    b, _ = holder("700")
    delegate_set(principal=a, to_principal_id=b.id)
    proposal = propose(b)
    delegation_end(principal=a)  # after the snapshot: a's power stays with b for this proposal
    elapse(proposal, DAY)
    with pytest.raises(Forbidden):
        vote_cast(voter=a, proposal_id=proposal.id, choice="against")
    assert vote_cast(voter=b, proposal_id=proposal.id, choice="for").weight == Decimal(1100)
    later = propose(b)
    elapse(later, DAY)
    assert vote_cast(voter=a, proposal_id=later.id, choice="against").weight == Decimal(400)


def test_voting_before_the_window_after_it_and_twice_is_409():
    proposer, _ = holder("2000")
    proposal = propose(proposer)
    with pytest.raises(Conflict, match="voting on this proposal starts at"):
        vote_cast(voter=proposer, proposal_id=proposal.id, choice="for")
    elapse(proposal, DAY)
    vote_cast(voter=proposer, proposal_id=proposal.id, choice="for")
    with pytest.raises(Conflict, match="already voted"):
        vote_cast(voter=proposer, proposal_id=proposal.id, choice="against")
    elapse(proposal, 7 * DAY)
    late, _ = holder("10")
    with pytest.raises(Conflict, match="ended"):
        vote_cast(voter=late, proposal_id=proposal.id, choice="for")
    stored = Proposal.objects.get(id=proposal.id)
    assert (stored.for_votes, stored.against_votes, stored.voters) == (Decimal(2000), 0, 1)


@pytest.mark.parametrize(
    ("votes", "status"),
    [
        ({"for": "600", "against": "399"}, "DEFEATED"),  # 999 cast: below the quorum of 1000
        ({"for": "600", "against": "400"}, "SUCCEEDED"),  # quorum met, 60% for
        ({"for": "500", "against": "500"}, "DEFEATED"),  # exactly half is not a majority
        ({"for": "100", "against": "50", "abstain": "850"}, "SUCCEEDED"),  # abstentions count for quorum only
        ({"against": "100", "abstain": "1000"}, "DEFEATED"),
    ],
)
def test_quorum_counts_every_vote_and_passing_needs_more_for_than_against(votes, status):
    voters = {choice: holder(amount)[0] for choice, amount in votes.items()}
    proposer, _ = holder("100")
    proposal = propose(proposer)
    elapse(proposal, DAY)
    for choice, voter in voters.items():
        vote_cast(voter=voter, proposal_id=proposal.id, choice=choice)
    elapse(proposal, 7 * DAY)
    assert proposal_view(Proposal.objects.get(id=proposal.id))["status"] == status


def test_the_beat_opens_and_closes_votes_on_time_and_reads_agree_between_beats():
    proposer, _ = holder("1500")
    proposal = propose(proposer)
    assert close_votes() == 0
    elapse(proposal, DAY)
    assert proposal_view(Proposal.objects.get(id=proposal.id))["status"] == "ACTIVE"  # before the beat
    assert Proposal.objects.get(id=proposal.id).status == "PENDING"
    assert close_votes() == 1
    assert Proposal.objects.get(id=proposal.id).status == "ACTIVE"
    vote_cast(voter=proposer, proposal_id=proposal.id, choice="for")
    elapse(proposal, 7 * DAY - 1)
    assert close_votes() == 0
    elapse(proposal, 1)
    assert proposal_view(Proposal.objects.get(id=proposal.id))["status"] == "SUCCEEDED"
    assert close_votes() == 1
    assert Proposal.objects.get(id=proposal.id).status == "SUCCEEDED"
    assert close_votes() == 0


def test_the_proposer_cancels_before_voting_starts_and_not_after():
    proposer, _ = holder("500")
    other, _ = holder("500")
    first, second = propose(proposer), propose(proposer)
    with pytest.raises(Forbidden):
        proposal_cancel(principal=other, proposal_id=first.id)
    assert proposal_cancel(principal=proposer, proposal_id=first.id).status == "CANCELED"
    elapse(second, DAY)
    with pytest.raises(Conflict, match="only a PENDING proposal"):
        proposal_cancel(principal=proposer, proposal_id=second.id)
