"""Reads: proposals (with their status at this moment), votes, profiles, parameters, the event log."""

from uuid import UUID

from django.db.models import Count, Q, Sum
from django.utils import timezone

from aitbc_site.errors import NotFound
from aitbc_site.money import ZERO, money_str
from aitbc_site.parameters import PARAMETERS, parameters_all
from aitbc_site.times import iso
from apps.governance.lifecycle import status_at, status_filter, with_cast
from apps.governance.models import Delegation, Event, GovernanceProfile, Proposal, Vote
from apps.governance.power import power_breakdown


def proposal_view(proposal: Proposal, now=None) -> dict:
    now = now or timezone.now()
    cast = proposal.for_votes + proposal.against_votes + proposal.abstain_votes
    decisive = proposal.for_votes + proposal.against_votes
    return {
        "proposal_id": proposal.id,
        "proposer_id": proposal.proposer_id,
        "title": proposal.title,
        "description": proposal.description,
        "category": proposal.category,
        "execution_payload": proposal.execution_payload,
        "status": status_at(proposal, now),
        "for_votes": money_str(proposal.for_votes),
        "against_votes": money_str(proposal.against_votes),
        "abstain_votes": money_str(proposal.abstain_votes),
        "votes_cast": money_str(cast),
        "voters": proposal.voters,
        "quorum": money_str(proposal.quorum),
        "quorum_reached": cast >= proposal.quorum,
        "for_ratio": str(round(proposal.for_votes / decisive, 4)) if decisive else None,
        "snapshot_at": iso(proposal.snapshot_at),
        "proposer_power": money_str(proposal.proposer_power),
        "voting_starts_at": iso(proposal.voting_starts_at),
        "voting_ends_at": iso(proposal.voting_ends_at),
        "executable_at": iso(proposal.executable_at),
        "executed_at": iso(proposal.executed_at),
        "executed_by": proposal.executed_by,
        "execution_result": proposal.execution_result,
        "canceled_at": iso(proposal.canceled_at),
        "created_at": iso(proposal.created_at),
    }


def proposal_get(proposal_id: UUID) -> Proposal:
    proposal = Proposal.objects.filter(id=proposal_id).first()
    if proposal is None:
        raise NotFound(f"no proposal {proposal_id}")
    return proposal


def proposal_list(*, status=None, category=None, proposer_id=None, limit=50, offset=0) -> tuple[int, list[dict]]:
    now = timezone.now()
    proposals = with_cast(Proposal.objects.all())
    if status:
        proposals = proposals.filter(status_filter(status, now))
    if category:
        proposals = proposals.filter(category=category)
    if proposer_id:
        proposals = proposals.filter(proposer_id=proposer_id)
    proposals = proposals.order_by("-created_at")
    return proposals.count(), [proposal_view(p, now) for p in proposals[offset : offset + limit]]


def vote_view(vote: Vote) -> dict:
    return {
        "vote_id": vote.id,
        "proposal_id": vote.proposal_id,
        "voter_id": vote.voter_id,
        "vote": vote.choice,
        "weight": money_str(vote.weight),
        "reason": vote.reason,
        "created_at": iso(vote.created_at),
    }


def vote_list(proposal_id: UUID, *, limit=50, offset=0) -> tuple[int, list[dict]]:
    votes = Vote.objects.filter(proposal_id=proposal_get(proposal_id).id).order_by("-weight", "created_at")
    return votes.count(), [vote_view(v) for v in votes[offset : offset + limit]]


def profile_view(profile: GovernanceProfile, viewer) -> dict:
    """Voting power is a balance: only its holder and admins see it (votes show what was cast)."""
    power = None
    if viewer.id == profile.principal_id or viewer.is_admin:
        power = {k: money_str(v) for k, v in power_breakdown(profile.principal_id, timezone.now()).items()}
    return {
        "principal_id": profile.principal_id,
        "name": profile.name,
        "role": profile.role,
        "delegate_id": profile.delegate_id,
        "delegators": Delegation.objects.filter(delegate_id=profile.principal_id, ended_at=None).count(),
        "voting_power": power,
        "votes_cast": Vote.objects.filter(voter_id=profile.principal_id).count(),
        "proposals_made": Proposal.objects.filter(proposer_id=profile.principal_id).count(),
        "created_at": iso(profile.created_at),
    }


def profile_list(*, viewer, role=None, limit=50, offset=0) -> tuple[int, list[dict]]:
    profiles = GovernanceProfile.objects.order_by("created_at")
    if role:
        profiles = profiles.filter(role=role)
    return profiles.count(), [profile_view(p, viewer) for p in profiles[offset : offset + limit]]


def profile_by_principal(principal_id: UUID) -> GovernanceProfile:
    profile = GovernanceProfile.objects.filter(principal_id=principal_id).first()
    if profile is None:
        raise NotFound(f"no governance profile for {principal_id}")
    return profile


def parameters_view() -> list[dict]:
    values = parameters_all()
    return [
        {
            "name": name,
            "value": values[name],
            "default": spec.default,
            "minimum": spec.minimum,
            "maximum": spec.maximum,
            "description": spec.description,
        }
        for name, spec in PARAMETERS.items()
    ]


def event_list(*, proposal_id=None, kind=None, limit=50, offset=0) -> tuple[int, list[dict]]:
    events = Event.objects.all()
    if proposal_id:
        events = events.filter(proposal_id=proposal_id)
    if kind:
        events = events.filter(kind=kind)
    rows = [
        {
            "event_id": e.id,
            "kind": e.kind,
            "proposal_id": e.proposal_id,
            "principal_id": e.principal_id,
            "data": e.data,
            "at": iso(e.created_at),
        }
        for e in events[offset : offset + limit]
    ]
    return events.count(), rows


def votes_summary(since=None, until=None) -> dict:
    votes = Vote.objects.all()
    if since is not None:
        votes = votes.filter(created_at__gte=since)
    if until is not None:
        votes = votes.filter(created_at__lt=until)
    totals = votes.aggregate(n=Count("id"), voters=Count("voter_id", distinct=True), power=Sum("weight"))
    by_choice = dict(votes.values_list("choice").annotate(s=Sum("weight")))
    return {
        "votes_cast": totals["n"],
        "active_voters": totals["voters"],
        "voting_power_cast": money_str(totals["power"] or ZERO),
        "power_by_vote": {c: money_str(by_choice.get(c, ZERO)) for c in ("for", "against", "abstain")},
    }


def delegations_summary(since=None, until=None) -> dict:
    window = Q()
    if since is not None:
        window &= Q(started_at__gte=since)
    if until is not None:
        window &= Q(started_at__lt=until)
    return {
        "delegations_started": Delegation.objects.filter(window).count(),
        "delegations_open": Delegation.objects.filter(ended_at=None).count(),
    }
