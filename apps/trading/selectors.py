from uuid import UUID

from django.db.models import Count, Q, Sum

from aitbc_site.money import ZERO
from apps.trading.models import Account, Posting, Receipt
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


def receipt_list(*, job_id=None, miner_id=None, client_id=None, limit: int = 50, offset: int = 0):
    receipts = Receipt.objects.order_by("-created_at")
    filters = Q()
    if job_id:
        filters &= Q(job_id=job_id)
    if miner_id:
        filters &= Q(miner_id=miner_id)
    if client_id:
        filters &= Q(client_id=client_id)
    receipts = receipts.filter(filters)
    return receipts.count(), [r.body for r in receipts[offset : offset + limit]]


def receipt_get(receipt_id: UUID) -> dict | None:
    receipt = Receipt.objects.filter(id=receipt_id).first()
    return receipt.body if receipt else None


def account_exists(owner_id: UUID) -> bool:
    return Account.objects.filter(owner_id=owner_id).exists()


def ledger_totals() -> dict:
    """The ledger at a glance: supply, treasury, fees collected, money in principals' accounts, escrow held."""
    from apps.trading.models import AccountKind, Entry, Hold, HoldStatus

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


def chain_head() -> dict:
    """The latest sealed block's height and time (None before the first block), and what waits to be sealed."""
    from apps.trading.models import Block, Entry

    head = Block.objects.order_by("-height").values("height", "sealed_at", "hash").first() or {}
    unsealed = Entry.objects.filter(block_height__isnull=True).count()
    unsealed += Receipt.objects.filter(block_height__isnull=True).count()
    return {**dict.fromkeys(("height", "sealed_at", "hash")), **head, "unsealed": unsealed}


def settlement_counts() -> dict:
    """Settlements made through the ledger, by kind: paid jobs (receipts), trade settlements, booking payments."""
    from apps.trading.models import Entry, TradeSettlement

    return {
        "jobs": Receipt.objects.count(),
        "trades": TradeSettlement.objects.count(),
        "bookings": Entry.objects.filter(kind="booking_payment").count(),
    }
