"""Reads over the DAO treasury (the ledger's treasury account) and governance as a whole."""

from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import timezone

from aitbc_site.money import ZERO, money_str
from apps.governance.lifecycle import status_filter, with_cast
from apps.governance.models import Category, Delegation, GovernanceProfile, Proposal, Status
from apps.governance.rules import funding_limit, rules
from apps.governance.selectors import delegations_summary, votes_summary
from apps.trading import facade as ledger

# ledger entry kinds, named for what they are to the treasury
SOURCES = {
    "genesis": "genesis",
    ledger.FEE_SWEEP_KIND: "platform_fees",
    "credit": "admin_credits",
    ledger.FUNDING_KIND: "funding_proposals",
}


def flows(since=None, until=None) -> dict:
    raw = ledger.treasury_flows(since, until)
    named = {
        side: {SOURCES.get(kind, kind): money_str(amount) for kind, amount in sorted(amounts.items())}
        for side, amounts in raw.items()
    }
    totals = {f"total_{side}": money_str(sum(amounts.values(), ZERO)) for side, amounts in raw.items()}
    return {**named, **totals}


def statuses_now() -> dict[str, int]:
    """How many proposals are in each status at this moment (the open ones placed by their windows), counted
    by the database."""
    now = timezone.now()
    proposals = with_cast(Proposal.objects.all())
    return {status: proposals.filter(status_filter(status, now)).count() for status in Status.values}


def _funding(statuses) -> Decimal:
    """What the funding proposals in these statuses (at this moment) ask for, together."""
    now, where = timezone.now(), Q()
    for status in statuses:
        where |= status_filter(status, now)
    proposals = with_cast(Proposal.objects.filter(category=Category.FUNDING)).filter(where)
    return sum((Decimal(a) for a in proposals.values_list("execution_payload__amount", flat=True)), ZERO)


def treasury_view() -> dict:
    """Balance, what passed votes have allocated but not paid, what is asked for in open votes, the most one
    funding proposal may ask for now, and flows."""
    balances = ledger.system_balances()
    allocated = _funding((Status.SUCCEEDED,))
    paid = ledger.treasury_flows()["outflow"].get(ledger.FUNDING_KIND, ZERO)
    return {
        "balance": money_str(balances["treasury"]),
        "allocated": money_str(allocated),
        "available": money_str(balances["treasury"] - allocated),
        "requested": money_str(_funding((Status.PENDING, Status.ACTIVE))),
        "max_per_proposal": money_str(funding_limit(balances["treasury"])),
        "paid_out": money_str(paid),
        "fees_pending_sweep": money_str(balances["fees"]),
        **flows(),
        "currency": "AIT",
    }


def analytics() -> dict:
    statuses = statuses_now()
    decided = statuses[Status.SUCCEEDED] + statuses[Status.DEFEATED] + statuses[Status.EXECUTED]
    passed = statuses[Status.SUCCEEDED] + statuses[Status.EXECUTED]
    proposals = Proposal.objects.all()
    per_proposal = proposals.exclude(voters=0).count()
    by_category = dict(proposals.values_list("category").annotate(n=Count("id")))
    top_delegates = (
        Delegation.objects.filter(ended_at=None)
        .values_list("delegate_id")
        .annotate(n=Count("id"))
        .order_by("-n", "delegate_id")[:5]
    )
    voters = proposals.aggregate(s=Sum("voters"))["s"] or 0
    return {
        "proposals": {"total": proposals.count(), "by_status": statuses, "by_category": by_category},
        "pass_rate": str(round(Decimal(passed) / decided, 4)) if decided else None,
        "proposals_with_votes": per_proposal,
        "average_voters_per_proposal": str(round(Decimal(voters) / per_proposal, 2)) if per_proposal else None,
        "top_delegates": [{"principal_id": str(d), "delegators": n} for d, n in top_delegates],
        **votes_summary(),
        **delegations_summary(),
        "profiles_by_role": dict(GovernanceProfile.objects.values_list("role").annotate(n=Count("id"))),
        "treasury_balance": money_str(ledger.system_balances()["treasury"]),
    }


def governance_status() -> dict:
    statuses = statuses_now()
    return {
        "service": "governance",
        "proposals": statuses,
        "open_votes": statuses[Status.ACTIVE],
        "profiles": GovernanceProfile.objects.count(),
        "delegations_open": delegations_summary()["delegations_open"],
        "treasury_balance": money_str(ledger.system_balances()["treasury"]),
        "rules": rules().as_dict(),
    }
