"""Reads of the signed job receipts."""

from uuid import UUID

from django.db.models import Q

from apps.trading.models import Receipt


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
