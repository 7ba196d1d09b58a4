"""Where a proposal stands at a moment, from its stored windows and tallies (so reads are right between beats)."""

from datetime import datetime

from django.db.models import F, Q

from apps.governance.models import Proposal, Status

OPEN = (Status.PENDING, Status.ACTIVE)
DECIDED = (Status.SUCCEEDED, Status.DEFEATED)


def outcome(proposal: Proposal) -> str:
    """Passes with quorum (for + against + abstain >= quorum) and for / (for + against) > 0.5."""
    cast = proposal.for_votes + proposal.against_votes + proposal.abstain_votes
    passed = cast >= proposal.quorum and proposal.for_votes > proposal.against_votes
    return Status.SUCCEEDED if passed else Status.DEFEATED


def status_at(proposal: Proposal, now: datetime) -> str:
    if proposal.status not in OPEN:
        return proposal.status
    if now < proposal.voting_starts_at:
        return Status.PENDING
    if now < proposal.voting_ends_at:
        return Status.ACTIVE
    return outcome(proposal)


def status_filter(status: str, now: datetime) -> Q:
    """The proposals whose status at `now` is `status`, as a query (stored status plus the windows)."""
    still_open = Q(status__in=OPEN)
    if status == Status.PENDING:
        return still_open & Q(voting_starts_at__gt=now)
    if status == Status.ACTIVE:
        return still_open & Q(voting_starts_at__lte=now, voting_ends_at__gt=now)
    if status not in DECIDED:
        return Q(status=status)
    passed = Q(cast__gte=F("quorum"), for_votes__gt=F("against_votes"))
    ended = still_open & Q(voting_ends_at__lte=now) & (passed if status == Status.SUCCEEDED else ~passed)
    return Q(status=status) | ended


def with_cast(queryset):
    return queryset.annotate(cast=F("for_votes") + F("against_votes") + F("abstain_votes"))
