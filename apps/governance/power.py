"""Voting power: a principal's AIT balance at a moment, unless delegated away, plus the balances of
those who had delegated to it at that moment. Delegation is one level deep (power never passes on)."""

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db.models import Q

from aitbc_site.money import ZERO
from apps.governance.models import Delegation
from apps.trading import facade as ledger


def _open_at(at: datetime) -> Q:
    return Q(started_at__lte=at) & (Q(ended_at=None) | Q(ended_at__gt=at))


def power_breakdown(principal_id: UUID, at: datetime) -> dict[str, Decimal]:
    """{"own", "delegated", "total"} of one principal at `at`."""
    open_then = Delegation.objects.filter(_open_at(at))
    delegated_away = open_then.filter(delegator_id=principal_id).exists()
    delegators = list(open_then.filter(delegate_id=principal_id).values_list("delegator_id", flat=True))
    balances = ledger.balances_as_of([principal_id, *delegators], at)
    own = ZERO if delegated_away else balances[principal_id]
    delegated = sum((balances[d] for d in delegators), ZERO)
    return {"own": own, "delegated": delegated, "total": own + delegated}


def voting_power(principal_id: UUID, at: datetime) -> Decimal:
    return power_breakdown(principal_id, at)["total"]
