"""Reads for governance: balances as of a moment (voting snapshots) and the DAO treasury's flows."""

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import Sum

from aitbc_site.money import ZERO
from apps.trading.models import AccountKind, Posting
from apps.trading.services.ledger import system_account


def balances_as_of(owner_ids, at: datetime) -> dict[UUID, Decimal]:
    """Each principal's balance from the postings of entries made at or before `at` (absent owners: 0)."""
    ids = list(set(owner_ids))
    sums = (
        Posting.objects.filter(account__owner_id__in=ids, entry__created_at__lte=at)
        .values_list("account__owner_id")
        .annotate(s=Sum("amount"))
    )
    found = dict(sums)
    return {owner: found.get(owner) or ZERO for owner in ids}


def system_balances() -> dict[str, Decimal]:
    """The treasury's balance and the platform fees not yet swept into it."""
    return {
        "treasury": system_account(AccountKind.TREASURY).balance,
        "fees": system_account(AccountKind.FEES).balance,
    }


def treasury_flows(since: datetime | None = None, until: datetime | None = None) -> dict[str, dict[str, Decimal]]:
    """Money into and out of the treasury by entry kind (genesis, fee_sweep, credit, dao_funding, ...)."""
    postings = Posting.objects.filter(account=system_account(AccountKind.TREASURY))
    if since is not None:
        postings = postings.filter(entry__created_at__gte=since)
    if until is not None:
        postings = postings.filter(entry__created_at__lt=until)
    inflow = dict(postings.filter(amount__gt=0).values_list("entry__kind").annotate(s=Sum("amount")))
    outflow = dict(postings.filter(amount__lt=0).values_list("entry__kind").annotate(s=Sum("amount")))
    return {"inflow": inflow, "outflow": {kind: -amount for kind, amount in outflow.items()}}
