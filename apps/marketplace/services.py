"""Placing and withdrawing orders, and the engine runs that match them. Bids hold their most expensive outcome in
escrow until they end."""

import uuid
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from aitbc_site.errors import Conflict, Invalid, NotFound
from aitbc_site.inputs import AMOUNT_LIMIT
from aitbc_site.money import quantize_up
from apps.accounts.facade import PrincipalView
from apps.gpu.facade import MinerView, gpus_free, miner_for_principal
from apps.marketplace.engine import (
    MATCH_DEPTH,
    bid_hold_key,
    bid_hold_release_unused,
    bid_match,
    class_match,
    fill_escrows_refused_return,
    fills_complete,
    gpu_class_of,
    offer_match,
)
from apps.marketplace.models import LIVE, Bid, Fill, FillStatus, Offer, OrderStatus
from apps.trading.facade import escrow_hold, escrows_orphaned_release

DB = "marketplace"
ORPHAN_AFTER = timedelta(minutes=5)
BID_TERMS = ("client_id", "gpu_model", "min_gpu_memory_gb", "gpu_count", "region", "max_price_per_hour", "hours")


def book_match(order: Bid | Offer) -> list[Fill]:
    """Matches a new (or retried) bid or offer against the best resting orders, then makes the escrow and
    bookings of its fills, those of earlier tries included (bounded; the periodic run finishes the rest)."""
    if isinstance(order, Bid):
        fills, pending = bid_match(order.id), Fill.objects.filter(bid_id=order.id)
    else:
        fills, pending = offer_match(order.id), Fill.objects.filter(offer_id=order.id)
    fills_complete(list(pending.filter(status=FillStatus.PENDING).order_by("created_at")[:MATCH_DEPTH]))
    return fills


def class_book_match(gpu_class: str, *, bids: int | None = None) -> list[Fill]:
    """One engine run for a class (its best `bids` bids, or all), then the escrow and bookings of the fills
    left pending in it."""
    fills = class_match(gpu_class, bids=bids)
    pending = Fill.objects.filter(status=FillStatus.PENDING, bid__gpu_class=gpu_class).order_by("created_at")
    fills_complete(list(pending if bids is None else pending[: bids * MATCH_DEPTH]))
    return fills


def books_match_all() -> int:
    """The periodic run: every class with live orders, and fills whose escrow or booking is unfinished."""
    fill_escrows_refused_return()
    classes = set(Bid.objects.filter(status__in=LIVE).values_list("gpu_class", flat=True))
    classes |= set(Fill.objects.filter(status=FillStatus.PENDING).values_list("bid__gpu_class", flat=True))
    return sum(len(class_book_match(gpu_class)) for gpu_class in sorted(classes))


def offer_create(
    *,
    miner: PrincipalView,
    gpu_model: str,
    gpu_memory_gb: int,
    gpu_count: int,
    cuda_version: str,
    region: str,
    price_per_hour: Decimal,
    hours: Decimal,
) -> Offer:
    """Offers hours of gpu_count GPUs the miner has (409 gpus_missing otherwise); it is matched at once."""
    registered = miner_for_principal(miner.id)
    if registered is None:
        raise Conflict("register this miner first (POST /gpu/v1/miners/register)", code="miner_not_registered")
    _gpus_checked(registered, gpu_model=gpu_model, gpu_memory_gb=gpu_memory_gb, gpu_count=gpu_count)
    offer = Offer.objects.create(
        miner_id=registered.id,
        provider_id=miner.id,
        gpu_model=gpu_model,
        gpu_class=gpu_class_of(gpu_model),
        gpu_memory_gb=gpu_memory_gb,
        gpu_count=gpu_count,
        cuda_version=cuda_version,
        region=region,
        price_per_hour=price_per_hour,
        hours=hours,
        remaining_hours=hours,
    )
    book_match(offer)
    offer.refresh_from_db()
    return offer


def _gpus_checked(miner: MinerView, *, gpu_model: str, gpu_memory_gb: int, gpu_count: int) -> None:
    """Only real GPUs are sold: the miner's registry must hold gpu_count online GPUs of that model and memory."""
    supply = gpus_free(miner_id=miner.id, gpu_model=gpu_model, min_memory_gb=gpu_memory_gb)
    if len(supply.gpu_ids) >= gpu_count:
        return
    has = f"{len(supply.uuids)} ({', '.join(supply.uuids)})" if supply.uuids else "none"
    detail = (
        f"{gpu_count} x {gpu_model} with at least {gpu_memory_gb} GB needs {gpu_count} online {gpu_model} GPUs "
        f"of that memory registered to this miner; it has {has}, {gpu_count - len(supply.uuids)} missing"
    )
    if supply.not_counted:
        detail += f" (not counted: {'; '.join(supply.not_counted)})"
    else:
        detail += " (a miner's GPUs are those it reports at POST /gpu/v1/miners/register)"
    raise Conflict(detail, code="gpus_missing")


def bid_create(
    *,
    client: PrincipalView,
    gpu_model: str,
    min_gpu_memory_gb: int,
    gpu_count: int,
    region: str,
    max_price_per_hour: Decimal,
    hours: Decimal,
    idempotency_key: str = "",
) -> Bid:
    """Holds max_price_per_hour x hours x gpu_count (402 when it cannot be covered), then matches.

    The hold is rounded up and each fill's amount down, so the fills never take more than the hold. With an
    Idempotency-Key the bid's id comes from it, so a retry after a failure part-way reuses the hold and the bid
    the first try left instead of placing a second."""
    bid = Bid(
        id=bid_id_for(client.id, idempotency_key) if idempotency_key else uuid.uuid4(),
        client_id=client.id,
        gpu_model=gpu_model,
        gpu_class=gpu_class_of(gpu_model),
        min_gpu_memory_gb=min_gpu_memory_gb,
        gpu_count=gpu_count,
        region=region,
        max_price_per_hour=max_price_per_hour,
        hours=hours,
        remaining_hours=hours,
    )
    amount = _bid_hold_amount(max_price_per_hour, hours, gpu_count)
    escrow_hold(owner_id=client.id, key=bid_hold_key(bid.id), amount=amount, what="this bid")
    bid = _bid_record(bid)
    book_match(bid)
    bid.refresh_from_db()
    return bid


def _bid_hold_amount(max_price_per_hour: Decimal, hours: Decimal, gpu_count: int) -> Decimal:
    """What a bid holds: its most expensive outcome, refused (422, before anything is held) beyond what one
    amount of the ledger may be."""
    amount = max_price_per_hour * hours * gpu_count
    if amount >= AMOUNT_LIMIT:
        raise Invalid(
            f"max_price_per_hour x hours x gpu_count: {amount:.2E} AIT is more than one bid may hold "
            f"(under {AMOUNT_LIMIT:.0E} AIT)"
        )
    return quantize_up(amount)


def bid_id_for(client_id, idempotency_key: str) -> uuid.UUID:
    """The same client and Idempotency-Key always name the same bid (and so the same `bid:<id>` hold)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"aitbc:bid:{client_id}:{idempotency_key}")


def _bid_record(bid: Bid) -> Bid:
    """Writes the new bid; a retry finds the one its first try wrote (409 when that was for other terms)."""
    try:
        with transaction.atomic(using=DB):
            bid.save(force_insert=True)
        return bid
    except IntegrityError:
        existing = Bid.objects.get(id=bid.id)
    if any(getattr(existing, field) != getattr(bid, field) for field in BID_TERMS):
        raise Conflict("this Idempotency-Key was used with a different request", code="idempotency_conflict")
    return existing


def _own(model, principal: PrincipalView, order_id, owner_field: str):
    order = model.objects.select_for_update().filter(id=order_id).first()
    if order is None or (getattr(order, owner_field) != principal.id and not principal.is_admin):
        raise NotFound(f"no {model.__name__.lower()} {order_id}")
    if order.status not in LIVE:
        raise Conflict(f"{model.__name__.lower()} {order_id} is already {order.status}", code="order_closed")
    return order


def bid_cancel(*, client: PrincipalView, bid_id) -> Bid:
    """Cancels the unfilled rest; what the bid still holds goes back to the client once its matched fills are
    funded (at once, or by the periodic run when one of them cannot be yet)."""
    with transaction.atomic(using=DB):
        bid = _own(Bid, client, bid_id, "client_id")
        bid.status = OrderStatus.CANCELED
        bid.save(update_fields=["status", "updated_at"])
    fills_complete(list(bid.fills.filter(status=FillStatus.PENDING)))  # what was matched is still booked
    bid_hold_release_unused(bid.id)  # else the periodic run releases it once its last fill is booked
    return bid


def offer_withdraw(*, miner: PrincipalView, offer_id) -> Offer:
    """Withdraws the unfilled rest of an offer (what was filled stays booked)."""
    with transaction.atomic(using=DB):
        offer = _own(Offer, miner, offer_id, "provider_id")
        offer.status = OrderStatus.CANCELED
        offer.save(update_fields=["status", "updated_at"])
    return offer


def bid_escrows_orphaned_release(older_than: timedelta = ORPHAN_AFTER) -> int:
    """Releases bid holds that no bid records (the process died between placing the hold and writing the bid);
    returns how many. A hold younger than `older_than` may still be in flight."""
    recorded = lambda ids: Bid.objects.filter(id__in=ids).values_list("id", flat=True)  # noqa: E731
    return escrows_orphaned_release(bid_hold_key(""), recorded, timezone.now() - older_than)
