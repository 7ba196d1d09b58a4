"""Votes, weighted by the voter's power at the proposal's snapshot, one per voter, only while ACTIVE."""

from uuid import UUID

from django.db import IntegrityError, transaction

from aitbc_site.errors import Conflict, Forbidden
from aitbc_site.money import money_str
from aitbc_site.times import iso
from apps.accounts.facade import PrincipalView
from apps.governance.events import event_record
from apps.governance.models import Status, Vote, VoteChoice
from apps.governance.power import voting_power
from apps.governance.services.profiles import profile_ensure
from apps.governance.services.proposals import DB, proposal_locked

TALLY = {VoteChoice.FOR: "for_votes", VoteChoice.AGAINST: "against_votes", VoteChoice.ABSTAIN: "abstain_votes"}


def _window_conflict(proposal) -> Conflict:
    if proposal.status == Status.PENDING:
        detail = f"voting on this proposal starts at {iso(proposal.voting_starts_at)}"
    elif proposal.status == Status.CANCELED:
        detail = "this proposal was canceled"
    else:
        detail = f"voting on this proposal ended at {iso(proposal.voting_ends_at)}; it is {proposal.status}"
    return Conflict(detail, code="voting_closed")


def vote_cast(*, voter: PrincipalView, proposal_id: UUID, choice: str, reason: str = "") -> Vote:
    """409 outside the voting window or on a second vote; 403 with no power at the snapshot."""
    profile_ensure(voter)
    with transaction.atomic(using=DB):
        proposal = proposal_locked(proposal_id)
        if proposal.status != Status.ACTIVE:
            raise _window_conflict(proposal)
        if Vote.objects.filter(proposal=proposal, voter_id=voter.id).exists():
            raise Conflict("you have already voted on this proposal", code="already_voted")
        weight = voting_power(voter.id, proposal.snapshot_at)
        if weight <= 0:
            raise Forbidden(
                "you had no voting power at this proposal's snapshot (AIT held or delegated to you then)",
                code="no_voting_power",
            )
        try:
            with transaction.atomic(using=DB):
                vote = Vote.objects.create(
                    proposal=proposal, voter_id=voter.id, choice=choice, weight=weight, reason=reason
                )
        except IntegrityError:
            raise Conflict("you have already voted on this proposal", code="already_voted") from None
        tally = TALLY[VoteChoice(choice)]
        setattr(proposal, tally, getattr(proposal, tally) + weight)  # the row is locked: no lost update
        proposal.voters += 1
        proposal.save(update_fields=[tally, "voters", "updated_at"])
        event_record("voted", proposal_id=proposal.id, principal_id=voter.id, vote=choice, weight=money_str(weight))
    return vote
