"""Reads of the ledger: balances, postings, earnings, escrow holds and totals."""

from datetime import datetime
from uuid import UUID

from django.db.models import Count, Sum

from aitbc_site.money import ZERO
from apps.trading.models import Account, AccountKind, Entry, Hold, HoldStatus, Posting, Receipt, TradeSettlement
from apps.trading.services.ledger import account_for, held_amount


def account_balances(owner_id: UUID) -> dict:
    account = account_for(owner_id)
    held = held_amount(account.id)
    return {"principal_id": owner_id, "balance": account.balance, "held": held, "available": account.balance - held}


def entry_list_for(owner_id: UUID, *, limit: int, offset: int):
    """The owner's postings, newest first, each with its entry."""
    postings = Posting.objects.filter(account__owner_id=owner_id).select_related("entry").order_by("-entry__created_at")
    return postings.count(), list(postings[offset : offset + limit])


def earnings_of(owner_id: UUID) -> dict:
    """What a miner's principal has been paid for jobs, from the ledger."""
    totals = Posting.objects.filter(account__owner_id=owner_id, entry__kind="job_payment", amount__gt=0).aggregate(
        total=Sum("amount"), jobs=Count("entry", distinct=True)
    )
    return {"total_earned": totals["total"] or ZERO, "jobs_paid": totals["jobs"] or 0}


def escrows_held(prefix: str, older_than: datetime) -> list[str]:
    """What follows `prefix` in the key of every hold still held under it, placed before `older_than`
    (for reconciliation: a crash between placing a hold and recording what it pays for leaves one)."""
    keys = Hold.objects.filter(status=HoldStatus.HELD, key__startswith=prefix, created_at__lt=older_than)
    return [key.removeprefix(prefix) for key in keys.values_list("key", flat=True)]


def ledger_totals() -> dict:
    """The ledger at a glance: supply, treasury, fees collected, money in principals' accounts, escrow held."""
    balances = dict(Account.objects.exclude(kind=AccountKind.PRINCIPAL).values_list("kind", "balance"))
    in_accounts = Account.objects.filter(kind=AccountKind.PRINCIPAL).aggregate(s=Sum("balance"))["s"]
    held = Hold.objects.filter(status=HoldStatus.HELD).aggregate(s=Sum("amount"), n=Count("id"))
    issuance = balances.get(AccountKind.ISSUANCE)
    return {
        "supply": -issuance if issuance is not None else ZERO,
        "treasury": balances.get(AccountKind.TREASURY, ZERO),
        "fees": balances.get(AccountKind.FEES, ZERO),
        "principals": in_accounts or ZERO,
        "escrow_held": held["s"] or ZERO,
        "escrow_holds": held["n"],
        "entries": Entry.objects.count(),
    }


def settlement_counts() -> dict:
    """Settlements made through the ledger, by kind: paid jobs (receipts), trade settlements, booking payments."""
    return {
        "jobs": Receipt.objects.count(),
        "trades": TradeSettlement.objects.count(),
        "bookings": Entry.objects.filter(kind="booking_payment").count(),
    }
