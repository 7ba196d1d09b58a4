"""Job escrow: hold at submit, capture + payout + fee + signed receipt at completion, release otherwise."""

import uuid
from decimal import Decimal
from uuid import UUID

from django.db import transaction

from aitbc_client.canonical import canonical_json
from aitbc_site.money import money_str
from aitbc_site.times import iso
from apps.trading import signing
from apps.trading.contracts import JobSettlement
from apps.trading.models import AccountKind, Receipt
from apps.trading.services.ledger import DB, account_for, hold_capture, hold_place, hold_release, system_account


def job_hold_key(job_id: UUID | str) -> str:
    return f"job:{job_id}"


def job_escrow_hold(*, job_id: UUID, client_id: UUID, amount: Decimal) -> None:
    hold_place(owner_id=client_id, key=job_hold_key(job_id), amount=amount, what="this job's max_price")


def job_escrow_release(*, job_id: UUID | str) -> str | None:
    """Frees the job's escrow. The id may be the str that job_escrows_held gives out: it only names the hold."""
    return hold_release(key=job_hold_key(job_id))


def receipt_body(settlement: JobSettlement, receipt_id: UUID) -> dict:
    """The signed receipt. `units` is what was billed (also `billed_units`); `reported_units` is what the miner
    reported, which the platform bills at most the run's lease time (started_at to completed_at) for."""
    reported = settlement.units if settlement.reported_units is None else settlement.reported_units
    body = {
        "receipt_id": str(receipt_id),
        "job_id": str(settlement.job_id),
        "miner_id": str(settlement.miner_id),
        "client_id": str(settlement.client_id),
        "type": settlement.type,
        "input_sha256": settlement.input_sha256,
        "output_sha256": settlement.output_sha256,
        "units": money_str(settlement.units),
        "reported_units": money_str(reported),
        "billed_units": money_str(settlement.units),
        "unit_type": "gpu_seconds",
        "unit_price": money_str(settlement.unit_price),
        "price": money_str(settlement.price),
        "fee": money_str(settlement.fee),
        "started_at": iso(settlement.started_at),
        "completed_at": iso(settlement.completed_at),
    }
    return {**body, "signature": signing.sign(canonical_json(body))}


def job_settle(settlement: JobSettlement) -> UUID:
    """Captures the job's escrow, pays the miner price - fee and the platform the fee, and signs the receipt.

    One transaction in the trading database, keyed by the job: running it again returns the same receipt.
    """
    existing = Receipt.objects.filter(job_id=settlement.job_id).values_list("id", flat=True).first()
    if existing:
        return existing
    miner_account = account_for(settlement.miner_principal_id)
    fees = system_account(AccountKind.FEES)
    with transaction.atomic(using=DB):
        hold_capture(
            key=job_hold_key(settlement.job_id),
            credits=[(miner_account, settlement.price - settlement.fee), (fees, settlement.fee)],
            entry_key=f"job:{settlement.job_id}:payment",
            kind="job_payment",
            memo=f"{settlement.type} job {settlement.job_id}",
            reference=str(settlement.job_id),
        )
        if (receipt := Receipt.objects.filter(job_id=settlement.job_id).first()) is not None:
            return receipt.id
        receipt_id = uuid.uuid4()
        Receipt.objects.create(
            id=receipt_id,
            job_id=settlement.job_id,
            miner_id=settlement.miner_id,
            client_id=settlement.client_id,
            body=receipt_body(settlement, receipt_id),
        )
    return receipt_id
