"""The matching engine: a continuous double auction per GPU class with price-time priority.

Bids by price (highest first) then time, offers by price (lowest first) then time; a bid and an
offer match when the offer meets the bid's constraints (memory, count, region) and its price is
within the bid's. The fill price is the resting (older) order's price; fills are partial when the
hours differ. One engine run per class at a time (a lock), so no order is ever filled twice.

Each fill then moves its part of the bid's escrow into an escrow of its own, books the GPUs (gpu
service) and opens the agreement of the fill (trading; its booking settles it). Those steps are
keyed by the fill and repeated until done (`fills_complete`).
"""

import logging

from django.db import transaction

from aitbc_site.locks import advisory_lock
from aitbc_site.money import quantize_down
from apps.gpu.facade import gpu_booking_open
from apps.marketplace.models import LIVE, Bid, Fill, FillStatus, Offer, OrderStatus
from apps.trading.facade import market_agreement_open
from apps.trading.services.ledger import hold_release, hold_transfer

log = logging.getLogger(__name__)
DB = "marketplace"
ENDED = (OrderStatus.FILLED, OrderStatus.CANCELED)


def gpu_class_of(model: str) -> str:
    return " ".join(model.lower().split())


def bid_hold_key(bid_id) -> str:
    return f"bid:{bid_id}"


def fill_hold_key(fill_id) -> str:
    return f"fill:{fill_id}"


def _class_lock(gpu_class: str) -> None:
    advisory_lock(DB, f"book:{gpu_class}")


def offer_fits(bid: Bid, offer: Offer) -> bool:
    return (
        offer.gpu_memory_gb >= bid.min_gpu_memory_gb
        and offer.gpu_count >= bid.gpu_count
        and (not bid.region or offer.region == bid.region)
        and offer.price_per_hour <= bid.max_price_per_hour
        and offer.provider_id != bid.client_id
    )


def _status(order) -> str:
    if order.remaining_hours == 0:
        return OrderStatus.FILLED
    return OrderStatus.PARTIAL if order.remaining_hours < order.hours else OrderStatus.OPEN


def class_match(gpu_class: str) -> list[Fill]:
    """Matches everything that can match in one GPU class's book; returns the new fills."""
    fills = []
    with transaction.atomic(using=DB):
        _class_lock(gpu_class)
        live = {"gpu_class": gpu_class, "status__in": LIVE}
        bids = list(Bid.objects.select_for_update().filter(**live).order_by("-max_price_per_hour", "created_at"))
        offers = list(Offer.objects.select_for_update().filter(**live).order_by("price_per_hour", "created_at"))
        for bid in bids:
            for offer in offers:
                if bid.remaining_hours == 0:
                    break
                if offer.remaining_hours == 0 or not offer_fits(bid, offer):
                    continue
                hours = min(bid.remaining_hours, offer.remaining_hours)
                price = offer.price_per_hour if offer.created_at <= bid.created_at else bid.max_price_per_hour
                fills.append(
                    Fill.objects.create(
                        offer=offer,
                        bid=bid,
                        price_per_hour=price,
                        hours=hours,
                        gpu_count=bid.gpu_count,
                        amount=quantize_down(price * hours * bid.gpu_count),  # the bid's hold is rounded up
                    )
                )
                for order in (bid, offer):
                    order.remaining_hours -= hours
                    order.status = _status(order)
                    order.save(update_fields=["remaining_hours", "status", "updated_at"])
    return fills


def fill_complete(fill_id) -> Fill:
    """Escrow for the fill (out of the bid's), then the booking; then the bid's unused escrow once it is
    filled or canceled. Every step is keyed by the fill, so running this again does nothing more."""
    fill = Fill.objects.select_related("bid", "offer").get(id=fill_id)
    if fill.status == FillStatus.PENDING:
        hold_transfer(from_key=bid_hold_key(fill.bid_id), to_key=fill_hold_key(fill.id), amount=fill.amount)
        booking_id = gpu_booking_open(
            key=f"fill:{fill.id}",
            miner_id=fill.offer.miner_id,
            provider_principal_id=fill.offer.provider_id,
            client_id=fill.bid.client_id,
            gpu_model=fill.offer.gpu_model,
            gpu_count=fill.gpu_count,
            hours=fill.hours,
            price_per_hour=fill.price_per_hour,
            escrow_key=fill_hold_key(fill.id),
        )
        terms = {
            "gpu_model": fill.offer.gpu_model,
            "gpu_count": fill.gpu_count,
            "hours": str(fill.hours),
            "price_per_hour": str(fill.price_per_hour),
            "offer_id": str(fill.offer_id),
            "bid_id": str(fill.bid_id),
            "booking_id": str(booking_id),
        }
        market_agreement_open(
            fill_id=fill.id,
            buyer_id=fill.bid.client_id,
            seller_id=fill.offer.provider_id,
            amount=fill.amount,
            terms=terms,
        )
        Fill.objects.filter(id=fill.id).update(status=FillStatus.BOOKED, booking_id=booking_id)
        fill.refresh_from_db()
    if fill.bid.status in ENDED:
        bid_hold_release_unused(fill.bid_id)
    return fill


def bid_hold_release_unused(bid_id) -> bool:
    """Gives the rest of an ended bid's hold back, but only once no fill of it is still PENDING: such a fill
    is funded from that hold later (the periodic run), and could never be once it was released."""
    if Fill.objects.filter(bid_id=bid_id, status=FillStatus.PENDING).exists():
        return False
    hold_release(key=bid_hold_key(bid_id))
    return True


def fills_complete(fills) -> None:
    for fill in fills:
        try:
            fill_complete(fill.id)
        except Exception:  # the periodic run completes it
            log.exception("fill %s could not be completed yet", fill.id)


def book_match(gpu_class: str) -> list[Fill]:
    """One engine run for a class, then the escrow and bookings of its fills (and of any left pending)."""
    fills = class_match(gpu_class)
    pending = Fill.objects.filter(status=FillStatus.PENDING, bid__gpu_class=gpu_class)
    fills_complete(list(pending))
    return fills


def books_match_all() -> int:
    """The periodic run: every class with live orders, and fills whose escrow or booking is unfinished."""
    classes = set(Bid.objects.filter(status__in=LIVE).values_list("gpu_class", flat=True))
    classes |= set(Fill.objects.filter(status=FillStatus.PENDING).values_list("bid__gpu_class", flat=True))
    return sum(len(book_match(gpu_class)) for gpu_class in sorted(classes))
