"""What other apps may ask the trading domain (the ledger, escrow, receipts, blocks, agreements): plain values only
(apps/trading/contracts.py), never ORM objects. No other app names the trading database: escrow is held, moved,
released and captured here, each in trading's own transactions."""

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from apps.trading.contracts import Capture, JobSettlement
from apps.trading.fees import fee_of
from apps.trading.selectors.blocks import chain_head
from apps.trading.selectors.ledger import account_balances, earnings_of, escrows_held, ledger_totals, settlement_counts
from apps.trading.selectors.receipts import receipt_get
from apps.trading.selectors.treasury import balances_as_of, system_balances, treasury_flows
from apps.trading.services import agreements
from apps.trading.services.escrow import escrow_capture, escrows_orphaned_release
from apps.trading.services.ledger import hold_place, hold_release, hold_return, hold_transfer
from apps.trading.services.settlement import job_escrow_hold, job_escrow_release, job_settle
from apps.trading.services.treasury import FEE_SWEEP_KIND, FUNDING_KIND, fees_sweep, treasury_pay

__all__ = [
    "Capture",
    "JobSettlement",
    "account_balances",
    "earnings_of",
    "fee_of",
    # escrow: a hold of an owner's money under a key, until it is captured (paid out) or released
    "escrow_hold",
    "escrow_move",
    "escrow_return",
    "escrow_release",
    "escrow_capture",
    "escrows_held",
    "escrows_orphaned_release",
    "job_escrow_hold",
    "job_escrow_release",
    "job_escrows_held",
    "job_settle",
    "receipt_get",
    "market_agreement_open",
    "market_agreement_close",
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


def escrow_hold(*, owner_id: UUID, key: str, amount: Decimal, what: str = "this") -> None:
    """Holds `amount` of the owner's available money under `key`: 402 naming `what` when it is not available. The
    same key again is the same hold (nothing more is held)."""
    hold_place(owner_id=owner_id, key=key, amount=amount, what=what)


def escrow_move(*, from_key: str, to_key: str, amount: Decimal) -> None:
    """Moves `amount` of the escrow `from_key` into a new escrow `to_key` of the same owner (a bid's into one fill's);
    409 escrow_missing when `from_key` is not held, 409 when it holds less. The same to_key again moves nothing."""
    hold_transfer(from_key=from_key, to_key=to_key, amount=amount)


def escrow_return(*, from_key: str, to_key: str) -> None:
    """Puts what the escrow `from_key` holds back into `to_key`, the escrow it was moved out of (or frees it to its
    owner when `to_key` is no longer held). Again: nothing more moves."""
    hold_return(from_key=from_key, to_key=to_key)


def escrow_release(*, key: str) -> str | None:
    """Frees an escrow that was not captured to its owner; returns its final status ("RELEASED", or "CAPTURED"
    when it was paid out before; None when there is no such escrow)."""
    return hold_release(key=key)


def job_escrows_held(older_than: datetime) -> list[str]:
    """Job ids whose escrow is still held and was placed before `older_than`."""
    return escrows_held("job:", older_than)


def market_agreement_open(*, fill_id: UUID, buyer_id: UUID, seller_id: UUID, amount: Decimal, terms: dict) -> UUID:
    """The agreement of one order-book fill (its escrow is the fill's hold; its booking settles it); its id.
    Idempotent."""
    agreement = agreements.market_agreement_open(
        fill_id=fill_id, buyer_id=buyer_id, seller_id=seller_id, amount=amount, terms=terms
    )
    return agreement.id


def market_agreement_close(*, fill_id: UUID, paid: Decimal) -> None:
    """The fill's booking ended: its agreement is settled for what the booking paid (fee included)."""
    agreements.market_agreement_close(fill_id=fill_id, paid=paid)
