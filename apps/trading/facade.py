"""What other apps may ask the trading domain (the ledger, escrow, receipts): plain values only."""

import logging

from apps.trading.selectors import (
    account_balances,
    chain_head,
    earnings_of,
    ledger_totals,
    receipt_get,
    settlement_counts,
)
from apps.trading.selectors_treasury import balances_as_of, system_balances, treasury_flows
from apps.trading.services.settlement import JobSettlement, job_escrow_hold, job_escrow_release, job_settle
from apps.trading.services.trades import market_agreement_close, market_agreement_open
from apps.trading.services.treasury import FEE_SWEEP_KIND, FUNDING_KIND, fees_sweep, treasury_pay

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
    "escrows_held",
    "escrow_return",
    # the DAO treasury and voting snapshots (governance)
    "FEE_SWEEP_KIND",
    "FUNDING_KIND",
    "balances_as_of",
    "fees_sweep",
    "system_balances",
    "treasury_flows",
    "treasury_pay",
    "ledger_totals",
    "chain_head",
    "settlement_counts",
]


log = logging.getLogger(__name__)


def escrows_held(prefix: str, older_than) -> list[str]:
    """What follows `prefix` in the key of every hold still held under it, placed before `older_than`
    (for reconciliation: a crash between placing a hold and recording what it pays for leaves one)."""
    from apps.trading.models import Hold, HoldStatus

    keys = Hold.objects.filter(status=HoldStatus.HELD, key__startswith=prefix, created_at__lt=older_than)
    return [key.removeprefix(prefix) for key in keys.values_list("key", flat=True)]


def escrows_orphaned_release(prefix: str, recorded, older_than) -> int:
    """Releases the holds under `prefix` older than `older_than` whose owner never recorded what they pay for
    (its process died between placing the hold and writing its row); returns how many. `recorded(ids)` is the
    set of those ids its domain has rows for; a younger hold may still be in flight."""
    from apps.trading.services.ledger import hold_release

    held = escrows_held(prefix, older_than)
    kept = {str(i) for i in recorded(held)} if held else set()
    orphans = [ident for ident in held if ident not in kept]
    for ident in orphans:
        log.warning("releasing escrow %s%s, which nothing records", prefix, ident)
        hold_release(key=f"{prefix}{ident}")
    return len(orphans)


def escrow_return(*, from_key: str, to_key: str) -> None:
    """Puts what the escrow `from_key` holds back into `to_key`, the escrow it was moved out of (or frees it to its
    owner when `to_key` is no longer held). Again: nothing more moves."""
    from apps.trading.services.ledger import hold_return

    hold_return(from_key=from_key, to_key=to_key)


def job_escrows_held(older_than) -> list[str]:
    """Job ids whose escrow is still held and was placed before `older_than`."""
    return escrows_held("job:", older_than)
