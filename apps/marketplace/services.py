"""Placing and withdrawing orders. Bids hold their most expensive outcome in escrow until they end."""

from decimal import Decimal

from django.db import transaction

from aitbc_site.errors import Conflict, NotFound
from aitbc_site.money import quantize_up
from apps.accounts.facade import PrincipalView
from apps.gpu.facade import miner_for_principal
from apps.marketplace.engine import bid_hold_key, bid_hold_release_unused, book_match, fills_complete, gpu_class_of
from apps.marketplace.models import LIVE, Bid, FillStatus, Offer, OrderStatus
from apps.trading.services.ledger import hold_place

DB = "marketplace"


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
    registered = miner_for_principal(miner.id)
    if registered is None:
        raise Conflict("register this miner first (POST /gpu/v1/miners/register)", code="miner_not_registered")
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
    book_match(offer.gpu_class)
    offer.refresh_from_db()
    return offer


def bid_create(
    *,
    client: PrincipalView,
    gpu_model: str,
    min_gpu_memory_gb: int,
    gpu_count: int,
    region: str,
    max_price_per_hour: Decimal,
    hours: Decimal,
) -> Bid:
    """Holds max_price_per_hour x hours x gpu_count (402 when it cannot be covered), then matches.

    The hold is rounded up and each fill's amount down, so the fills never take more than the hold."""
    bid = Bid(
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
    amount = quantize_up(max_price_per_hour * hours * gpu_count)
    hold_place(owner_id=client.id, key=bid_hold_key(bid.id), amount=amount, what="this bid")
    bid.save(force_insert=True)
    book_match(bid.gpu_class)
    bid.refresh_from_db()
    return bid


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
