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
