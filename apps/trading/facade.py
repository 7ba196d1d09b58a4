"""What other apps may ask the trading domain (the ledger, escrow, receipts): plain values only."""

from apps.trading.selectors import (
    account_balances,
    chain_head,
    earnings_of,
    ledger_totals,
    receipt_get,
    settlement_counts,
)
from apps.trading.services.settlement import JobSettlement, job_escrow_hold, job_escrow_release, job_settle
from apps.trading.services.trades import market_agreement_close, market_agreement_open

__all__ = [
    "JobSettlement",
    "account_balances",
    "earnings_of",
    "job_escrow_hold",
    "job_escrow_release",
    "job_settle",
    "receipt_get",
    "market_agreement_open",
    "market_agreement_close",
    "job_escrows_held",
    "ledger_totals",
    "chain_head",
    "settlement_counts",
]


def job_escrows_held(older_than) -> list[str]:
    """Job ids whose escrow is still held and was placed before `older_than` (for reconciliation)."""
    from apps.trading.models import Hold, HoldStatus

    keys = Hold.objects.filter(status=HoldStatus.HELD, key__startswith="job:", created_at__lt=older_than)
    return [key.removeprefix("job:") for key in keys.values_list("key", flat=True)]
