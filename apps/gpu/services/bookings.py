"""GPU bookings and reviews: escrowed GPU hours, paid to the provider when they end, rated by those who booked.

A booking's money is one hold in the trading ledger (`escrow_key`), placed before the booking is recorded:
by `gpu_book` for a direct booking, by the marketplace for an order-book fill. When the booking ends the
hold is captured once, under the entry key `<booking key>:payment`, paying the provider the used part
minus the platform fee and the platform the fee; the part not captured goes back to the client. A replay
finds that entry and records what it moved, so money moves once however often a step runs.

A booking holds specific GPUs (`gpu_ids`), gpu_count of its miner's that count for it (availability.py) and that
no other ACTIVE booking holds over any of its time; one that cannot get them all is refused.

Locks: in the gpu database the miner's row (as heartbeats and registration do, so bookings of one miner's
GPUs take turns and never deadlock with its heartbeats), then the GPU rows it chooses among in primary-key order
(locks.py), or the booking's row; then the ledger's accounts.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from django.db import IntegrityError, transaction
from django.utils import timezone

from aitbc_site.errors import ApiError, Conflict, Invalid, NotFound
from aitbc_site.inputs import AMOUNT_LIMIT
from aitbc_site.money import ZERO, quantize
from apps.accounts.facade import PrincipalView
from apps.gpu.locks import gpus_lock, miner_lock
from apps.gpu.models import BookingStatus, Gpu, GpuBooking, GpuStatus, MinerStatus
from apps.gpu.selectors.availability import booked_gpu_ids, gpus_of_model, supply_of
from apps.gpu.selectors.bookings import SECONDS_PER_HOUR, booking_amount, booking_duration, booking_span
from apps.gpu.selectors.miners import miner_is_online
from apps.trading.facade import (
    Capture,
    escrow_capture,
    escrow_hold,
    escrow_release,
    escrows_orphaned_release,
    market_agreement_close,
)

log = logging.getLogger(__name__)
DB = "gpu"
SETTLE_BATCH = 500
ORPHAN_AFTER = timedelta(minutes=5)


def _terms_checked(*, hours: Decimal, price_per_hour: Decimal, gpu_count: int) -> None:
    if Decimal(hours) <= 0:
        raise Invalid("hours must be greater than 0")
    if Decimal(price_per_hour) < 0:
        raise Invalid("price_per_hour must not be negative")
    if gpu_count < 1:
        raise Invalid("gpu_count must be at least 1")
    amount = booking_amount(hours=hours, price_per_hour=price_per_hour, gpu_count=gpu_count)
    if max(amount, Decimal(price_per_hour)) >= AMOUNT_LIMIT:
        raise Invalid(
            f"hours: {hours} h x {price_per_hour} AIT per GPU-hour x {gpu_count} GPU(s) is {amount} AIT, "
            f"beyond what the ledger takes (under {AMOUNT_LIMIT:f})"
        )


def _replayed(existing: GpuBooking, **expected) -> GpuBooking:
    """The booking made before under the same key, if it was made for the same thing; 409 otherwise."""
    if any(getattr(existing, name) != value for name, value in expected.items()):
        raise Conflict(f"booking key {existing.key} was used for a different booking", code="idempotency_conflict")
    return existing


def _booking_create(**fields) -> GpuBooking | None:
    """Creates the booking; None when its key was taken meanwhile (call inside a gpu transaction)."""
    try:
        with transaction.atomic(using=DB):
            return GpuBooking.objects.create(**fields)
    except IntegrityError:
        return None


def booking_open(
    *,
    key: str,
    miner_id: UUID,
    provider_principal_id: UUID,
    client_id: UUID,
    gpu_model: str,
    gpu_count: int,
    hours: Decimal,
    price_per_hour: Decimal,
    escrow_key: str,
    starts_at: datetime | None = None,
    min_memory_gb: int = 0,
) -> GpuBooking:
    """Records a booking whose escrow hold `escrow_key` the caller has already placed for its amount
    (`booking_amount`), holding gpu_count of the miner's GPUs of gpu_model with at least min_memory_gb that count
    and are free over its time (availability.py). 409 gpus_unavailable, and nothing recorded, when the miner has
    fewer; the caller's hold is then the caller's to undo. The same key again returns the same booking."""
    _terms_checked(hours=hours, price_per_hour=price_per_hour, gpu_count=gpu_count)
    amount = booking_amount(hours=hours, price_per_hour=price_per_hour, gpu_count=gpu_count)
    if (existing := GpuBooking.objects.filter(key=key).first()) is not None:
        return _replayed(existing, client_id=client_id, escrow_key=escrow_key, amount=amount)
    span = booking_span(hours, starts_at)
    with transaction.atomic(using=DB):
        miner = miner_lock(miner_id)
        if miner is None:
            raise Conflict(f"there is no miner {miner_id} to book", code="gpus_unavailable")
        candidates = gpus_lock(g.id for g in gpus_of_model(miner_id, gpu_model))
        supply = supply_of(miner, candidates, min_memory_gb=min_memory_gb, **span)
        if len(supply.free) < gpu_count:
            raise _unavailable(miner_id, f"{gpu_count} {gpu_model}", min_memory_gb, supply)
        gpu_ids = [str(g.id) for g in supply.free[:gpu_count]]
        booking = _booking_create(
            key=key,
            miner_id=miner_id,
            provider_principal_id=provider_principal_id,
            client_id=client_id,
            gpu_ids=gpu_ids,
            gpu_model=gpu_model,
            gpu_count=gpu_count,
            hours=hours,
            price_per_hour=price_per_hour,
            amount=amount,
            escrow_key=escrow_key,
            **span,
        )
    if booking is None:  # the same key, concurrently
        existing = GpuBooking.objects.get(key=key)
        return _replayed(existing, client_id=client_id, escrow_key=escrow_key, amount=amount)
    return booking


def _unavailable(miner_id: UUID, wanted: str, min_memory_gb: int, supply) -> Conflict:
    memory = f" with at least {min_memory_gb} GB" if min_memory_gb else ""
    detail = (
        f"miner {miner_id} has {len(supply.free)} of the {wanted} GPUs{memory} this booking needs free over its time"
    )
    why = "; ".join(supply.not_counted)
    return Conflict(f"{detail}: {why}" if why else detail, code="gpus_unavailable")


def _bookable_or_409(gpu: Gpu, starts_at: datetime, ends_at: datetime) -> None:
    miner = gpu.miner
    if miner.status == MinerStatus.OFFLINE or not miner_is_online(miner):
        raise Conflict(f"GPU {gpu.id}'s miner is offline", code="miner_offline")
    if gpu.status == GpuStatus.OFFLINE:
        raise Conflict(f"GPU {gpu.id} is offline: its miner no longer reports it", code="gpu_offline")
    if str(gpu.id) in booked_gpu_ids(miner.id, starts_at, ends_at):
        raise Conflict(f"GPU {gpu.id} is already booked over that time", code="gpu_booked")


def gpu_book(*, client: PrincipalView, gpu_id: UUID, hours: Decimal, idempotency_key: str = "") -> GpuBooking:
    """Books one registered GPU from now for `hours` at its miner's unit price x 3600 per hour, paid into
    escrow now (402 when the client cannot cover it). 404 unknown GPU; 409 offline or already booked."""
    key = f"book:{client.id}:{idempotency_key}" if idempotency_key else f"book:{uuid4()}"
    same = {"client_id": client.id, "gpu_ids": [str(gpu_id)], "hours": quantize(Decimal(hours))}
    if (existing := GpuBooking.objects.filter(key=key).first()) is not None:
        return _replayed(existing, **same)
    miner_id = Gpu.objects.filter(id=gpu_id).values_list("miner_id", flat=True).first()
    if miner_id is None:
        raise NotFound(f"no GPU {gpu_id}")
    booking_id = uuid4()
    escrow_key = f"booking:{booking_id}"
    with transaction.atomic(using=DB):
        miner_lock(miner_id)  # bookings of its GPUs take turns
        gpus_lock([gpu_id])
        gpu = Gpu.objects.select_related("miner").get(id=gpu_id)
        if (existing := GpuBooking.objects.filter(key=key).first()) is not None:
            return _replayed(existing, **same)
        price_per_hour = gpu.miner.unit_price * SECONDS_PER_HOUR
        _terms_checked(hours=hours, price_per_hour=price_per_hour, gpu_count=1)
        amount = booking_amount(hours=hours, price_per_hour=price_per_hour, gpu_count=1)
        starts_at = timezone.now()
        ends_at = starts_at + booking_duration(hours)
        _bookable_or_409(gpu, starts_at, ends_at)
        escrow_hold(owner_id=client.id, key=escrow_key, amount=amount, what="this booking")
        try:
            booking = _booking_create(
                id=booking_id,
                key=key,
                miner_id=gpu.miner_id,
                provider_principal_id=gpu.miner.principal_id,
                client_id=client.id,
                gpu_ids=[str(gpu.id)],
                gpu_model=gpu.model,
                gpu_count=1,
                hours=hours,
                price_per_hour=price_per_hour,
                amount=amount,
                escrow_key=escrow_key,
                starts_at=starts_at,
                ends_at=ends_at,
            )
        except Exception:
            escrow_release(key=escrow_key)
            raise
        if booking is None:
            escrow_release(key=escrow_key)
            raise Conflict(f"booking key {key} was used for another booking", code="idempotency_conflict")
    return booking


def _pay(booking: GpuBooking, gross: Decimal) -> None:
    """Pays `gross` of the escrow (provider gross - fee, platform the fee) and frees the rest to the client;
    records on the booking what the ledger actually moved (the first payment, if this is a replay; nothing, all
    refunded, if the escrow was released before)."""
    if gross > 0:
        capture = escrow_capture(
            key=booking.escrow_key,
            payee_id=booking.provider_principal_id,
            gross=gross,
            entry_key=f"{booking.key}:payment",
            kind="booking_payment",
            memo=f"GPU booking {booking.id}: {booking.gpu_model} x{booking.gpu_count} for {booking.hours} h",
            reference=str(booking.id),
        )
    else:
        escrow_release(key=booking.escrow_key)
        capture = Capture(paid=ZERO, fee=ZERO, refunded=booking.amount)
    booking.paid, booking.fee, booking.refunded = capture.paid, capture.fee, capture.refunded


def _used(booking: GpuBooking, now: datetime) -> Decimal:
    """The part of the amount used by `now`: elapsed / booked time (clamped to 0..1) x amount."""
    booked = (booking.ends_at - booking.starts_at) // timedelta(microseconds=1)
    elapsed = (now - booking.starts_at) // timedelta(microseconds=1)
    if booked <= 0 or elapsed >= booked:
        return booking.amount
    return quantize(booking.amount * max(elapsed, 0) / booked)


def _finish(booking: GpuBooking, *, status: str, gross: Decimal, ended_at: datetime) -> GpuBooking:
    _pay(booking, gross)
    assert booking.paid is not None and booking.fee is not None  # _pay recorded what the ledger moved
    if booking.key.startswith("fill:"):  # an order-book fill: its agreement is settled with it
        market_agreement_close(fill_id=UUID(booking.key.removeprefix("fill:")), paid=booking.paid + booking.fee)
    booking.status, booking.ended_at = status, ended_at
    booking.save(update_fields=["paid", "fee", "refunded", "status", "ended_at", "updated_at"])
    return booking


def booking_release(*, client: PrincipalView, booking_id: UUID) -> GpuBooking:
    """The client ends its booking early: the provider is paid for the time used (minus the fee), the rest
    goes back to the client. Again: the same booking, no money moved. 409 when it already COMPLETED; a
    booking whose time is up is completed (paid in full) instead. An admin may release anyone's booking."""
    with transaction.atomic(using=DB):
        booking = GpuBooking.objects.select_for_update().filter(id=booking_id).first()
        if booking is None or (booking.client_id != client.id and not client.is_admin):
            raise NotFound(f"no booking {booking_id}")
        if booking.status == BookingStatus.RELEASED:
            return booking
        if booking.status == BookingStatus.COMPLETED:
            raise Conflict(
                f"booking {booking_id} already completed at {booking.ends_at.isoformat()}", code="booking_completed"
            )
        now = timezone.now()
        if now >= booking.ends_at:
            return _finish(booking, status=BookingStatus.COMPLETED, gross=booking.amount, ended_at=booking.ends_at)
        return _finish(booking, status=BookingStatus.RELEASED, gross=_used(booking, now), ended_at=now)


def bookings_settle_due(now: datetime | None = None) -> int:
    """Pays in full every ACTIVE booking whose time is up and marks it COMPLETED; returns how many.
    A booking that cannot be paid now (its escrow missing) is logged and tried again next run."""
    now = now or timezone.now()
    due = GpuBooking.objects.filter(status=BookingStatus.ACTIVE, ends_at__lte=now).order_by("ends_at")
    settled = 0
    for booking_id in list(due.values_list("id", flat=True)[:SETTLE_BATCH]):
        try:
            with transaction.atomic(using=DB):
                booking = (
                    GpuBooking.objects.select_for_update(skip_locked=True)
                    .filter(id=booking_id, status=BookingStatus.ACTIVE)
                    .first()
                )
                if booking is None:  # finished meanwhile, or being released right now
                    continue
                _finish(booking, status=BookingStatus.COMPLETED, gross=booking.amount, ended_at=booking.ends_at)
                settled += 1
        except ApiError:
            log.exception("booking %s could not be settled yet", booking_id)
    return settled


def booking_escrows_orphaned_release(older_than: timedelta = ORPHAN_AFTER) -> int:
    """Releases direct-booking holds that no booking records (the process died between placing the hold
    and writing the booking); returns how many. A hold younger than `older_than` may still be in flight."""
    recorded = lambda ids: GpuBooking.objects.filter(id__in=ids).values_list("id", flat=True)  # noqa: E731
    return escrows_orphaned_release("booking:", recorded, timezone.now() - older_than)
