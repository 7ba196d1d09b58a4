"""Holders, proposals and the passing of time for governance tests."""

from datetime import timedelta

from apps.governance.models import Proposal
from apps.governance.services.proposals import proposal_create
from apps.governance.services.voting import vote_cast
from tests import factories

DAY = 24 * 3600


def holder(amount: str = "0", role: str = "client"):
    """A principal holding `amount` AIT (credited from the treasury), and its key."""
    who, key = factories.principal(role)
    if amount != "0":
        factories.treasury_credit_to(who.id, amount)
    return who, key


def propose(proposer, category="text", payload=None, title="a proposal"):
    return proposal_create(
        proposer=proposer, title=title, description="why", category=category, execution_payload=payload
    )


def elapse(proposal: Proposal, seconds: float) -> Proposal:
    """Time passes for this proposal: its voting window and timelock move `seconds` into the past
    (the snapshot stays where it was, so balances keep their moment)."""
    shift = timedelta(seconds=seconds)
    proposal = Proposal.objects.get(id=proposal.id)
    Proposal.objects.filter(id=proposal.id).update(
        voting_starts_at=proposal.voting_starts_at - shift,
        voting_ends_at=proposal.voting_ends_at - shift,
        executable_at=proposal.executable_at - shift,
    )
    return Proposal.objects.get(id=proposal.id)


def passed(proposal: Proposal, *voters) -> Proposal:
    """Voting opens, every voter votes for, voting and the timelock end."""
    proposal = elapse(proposal, DAY)
    for voter in voters:
        vote_cast(voter=voter, proposal_id=proposal.id, choice="for")
    return elapse(proposal, 9 * DAY)
