"""The matching engine: a continuous double auction per GPU class with price-time priority.

Bids by price (highest first) then time, offers by price (lowest first) then time; a bid and an
offer match when the offer meets the bid's constraints (memory, count, region) and its price is
within the bid's. The fill price is the resting (older) order's price; fills are partial when the
hours differ. One engine run per class at a time (a lock), so no order is ever filled twice.

A new order is matched against the best MATCH_DEPTH resting orders that meet it (one ordered, indexed
query), never against the whole book; the periodic run matches each live bid the same way.

Only real, free GPUs are sold: an offer matches only while its miner has the bid's gpu_count of the
offer's GPUs online and unbooked (gpu service), less those the run's earlier fills took.

Each fill then moves its part of the bid's escrow into an escrow of its own, books the GPUs (gpu
service) and opens the agreement of the fill (trading; its booking settles it). Those steps are
keyed by the fill and repeated until done (`fills_complete`; the runs that match and then complete, one order's,
one class's and the periodic one, are in services.py). A booking refused because the GPUs
went meanwhile (another booking, the miner offline) refuses the fill: its hours go back to the bid
and the offer, its escrow back into the bid's, and no money moves to the miner.
"""

import logging

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from aitbc_site.errors import Conflict
from aitbc_site.locks import advisory_lock
from aitbc_site.money import ZERO, quantize_down
from apps.gpu.facade import gpu_booking_open, gpus_free
from apps.marketplace.models import LIVE, Bid, Fill, FillStatus, Offer, OrderStatus
from apps.trading.facade import escrow_move, escrow_release, escrow_return, escrows_held, market_agreement_open

log = logging.getLogger(__name__)
DB = "marketplace"
MATCH_DEPTH = 50  # resting orders an incoming order is matched against, best first (those without free GPUs pass)
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


def offers_for(bid: Bid):
    """The live offers that meet the bid's constraints and price, best first (price, then time): an indexed query
    (gpu_class, status, price_per_hour, created_at) whose callers take a bounded slice."""
    offers = Offer.objects.filter(
        gpu_class=bid.gpu_class,
        status__in=LIVE,
        price_per_hour__lte=bid.max_price_per_hour,
        remaining_hours__gt=0,
        gpu_memory_gb__gte=bid.min_gpu_memory_gb,
        gpu_count__gte=bid.gpu_count,
    ).exclude(provider_id=bid.client_id)
    if bid.region:
        offers = offers.filter(region=bid.region)
    return offers.order_by("price_per_hour", "created_at", "id")


def bids_for(offer: Offer):
    """The live bids the offer meets, best first (highest price, then time): indexed as offers_for is."""
    return (
        Bid.objects.filter(
            gpu_class=offer.gpu_class,
            status__in=LIVE,
            max_price_per_hour__gte=offer.price_per_hour,
            remaining_hours__gt=0,
            min_gpu_memory_gb__lte=offer.gpu_memory_gb,
            gpu_count__lte=offer.gpu_count,
        )
        .filter(Q(region="") | Q(region=offer.region))
        .exclude(client_id=offer.provider_id)
        .order_by("-max_price_per_hour", "created_at", "id")
    )


def _status(order) -> str:
    if order.remaining_hours == 0:
        return OrderStatus.FILLED
    return OrderStatus.PARTIAL if order.remaining_hours < order.hours else OrderStatus.OPEN


class FreeGpus:
    """The GPUs each offer's miner has free for one engine run (online, of the offer's model and memory, booked by
    no one from now for the run's longest bid), less those the run's fills took: a run never matches more GPUs
    than are free. Each booking then takes its own under a lock, and is refused if they went meanwhile."""

    def __init__(self, hours):
        self.hours, self.free, self.taken = hours, {}, set()

    def take(self, offer: Offer, count: int) -> bool:
        asked = (offer.miner_id, offer.gpu_model, offer.gpu_memory_gb)  # a miner's offers of the same GPUs: one read
        if asked not in self.free:
            supply = gpus_free(
                miner_id=offer.miner_id, gpu_model=offer.gpu_model, min_memory_gb=offer.gpu_memory_gb, hours=self.hours
            )
            self.free[asked] = supply.gpu_ids
        free = [gpu_id for gpu_id in self.free[asked] if gpu_id not in self.taken]
        if len(free) < count:
            return False
        self.taken.update(free[:count])
        return True


def _fill(bid: Bid, offer: Offer) -> Fill:
    """A fill of what the bid and the offer still have, at the resting (older) order's price."""
    hours = min(bid.remaining_hours, offer.remaining_hours)
    price = offer.price_per_hour if offer.created_at <= bid.created_at else bid.max_price_per_hour
    fill = Fill.objects.create(
        offer=offer,
        bid=bid,
        price_per_hour=price,
        hours=hours,
        gpu_count=bid.gpu_count,
        amount=quantize_down(price * hours * bid.gpu_count),  # the bid's hold is rounded up
    )
    for order in (bid, offer):
        order.remaining_hours -= hours
        order.status = _status(order)
        order.save(update_fields=["remaining_hours", "status", "updated_at"])
    return fill


def bid_match(bid_id) -> list[Fill]:
    """Matches one bid against the best MATCH_DEPTH offers that meet it (never the whole book); returns the fills.
    Under its class's lock, so no order is ever filled twice; bids are locked before offers, as everywhere."""
    with transaction.atomic(using=DB):
        gpu_class = Bid.objects.filter(id=bid_id).values_list("gpu_class", flat=True).first()
        if gpu_class is None:
            return []
        _class_lock(gpu_class)
        bid = Bid.objects.select_for_update().get(id=bid_id)
        if bid.status not in LIVE or bid.remaining_hours == 0:
            return []
        gpus, fills = FreeGpus(bid.remaining_hours), []
        for offer in offers_for(bid).select_for_update()[:MATCH_DEPTH]:
            if bid.remaining_hours == 0:
                break
            if gpus.take(offer, bid.gpu_count):
                fills.append(_fill(bid, offer))
    return fills


def offer_match(offer_id) -> list[Fill]:
    """Matches one offer against the best MATCH_DEPTH bids it meets; returns the fills."""
    with transaction.atomic(using=DB):
        offer = Offer.objects.filter(id=offer_id).first()
        if offer is None:
            return []
        _class_lock(offer.gpu_class)
        bids = list(bids_for(offer).select_for_update()[:MATCH_DEPTH])
        offer = Offer.objects.select_for_update().get(id=offer_id)
        if offer.status not in LIVE:
            return []
        gpus, fills = FreeGpus(max((bid.remaining_hours for bid in bids), default=ZERO)), []
        for bid in bids:
            if offer.remaining_hours == 0:
                break
            if offer_fits(bid, offer) and gpus.take(offer, bid.gpu_count):
                fills.append(_fill(bid, offer))
    return fills


def class_match(gpu_class: str, *, bids: int | None = None) -> list[Fill]:
    """Matches the live bids of a class (the best `bids` of them, or all: the periodic run) in price-time
    priority, each against the best offers that meet it; returns the new fills."""
    live = Bid.objects.filter(gpu_class=gpu_class, status__in=LIVE, remaining_hours__gt=0)
    ids = live.order_by("-max_price_per_hour", "created_at", "id").values_list("id", flat=True)
    fills = []
    for bid_id in list(ids[:bids] if bids is not None else ids):
        fills += bid_match(bid_id)
    return fills


def fill_complete(fill_id) -> Fill:
    """Escrow for the fill (out of the bid's), then the booking; then the bid's unused escrow once it is
    filled or canceled. Every step is keyed by the fill, and the fill's row is locked while they run, so running
    this again, or twice at once, does nothing more. A fill whose booking is refused gives its escrow back."""
    with transaction.atomic(using=DB):
        fill = Fill.objects.select_for_update(of=("self",)).select_related("bid", "offer").get(id=fill_id)
        if fill.status == FillStatus.PENDING:
            _fill_book(fill)
    if fill.status == FillStatus.REFUSED:  # after the refusal is stored: a crash before this, the sweep redoes it
        escrow_return(from_key=fill_hold_key(fill.id), to_key=bid_hold_key(fill.bid_id))
    if Bid.objects.filter(id=fill.bid_id, status__in=ENDED).exists():
        bid_hold_release_unused(fill.bid_id)
    return fill


def _fill_book(fill: Fill) -> None:
    """The fill's escrow and booking, then its agreement; a booking refused for want of GPUs refuses the fill."""
    escrow_move(from_key=bid_hold_key(fill.bid_id), to_key=fill_hold_key(fill.id), amount=fill.amount)
    try:
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
            min_memory_gb=fill.offer.gpu_memory_gb,
        )
    except Conflict as refused:
        if refused.code != "gpus_unavailable":
            raise
        _fill_refuse(fill, refused.detail)
        return
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
    Fill.objects.filter(id=fill.id).update(status=FillStatus.BOOKED, booking_id=booking_id, updated_at=timezone.now())
    fill.status, fill.booking_id = FillStatus.BOOKED, booking_id


def _fill_refuse(fill: Fill, why: str) -> None:
    """Its hours go back to the bid and the offer (on the book again unless canceled meanwhile) and it is REFUSED;
    its escrow goes back into the bid's once this is stored (fill_complete). Inside the marketplace transaction
    that locks the fill; the bid and the offer are locked in that order, as bid_match and offer_match lock them."""
    log.warning("fill %s refused: %s", fill.id, why)
    for order in (
        Bid.objects.select_for_update().get(id=fill.bid_id),
        Offer.objects.select_for_update().get(id=fill.offer_id),
    ):
        if order.status != OrderStatus.CANCELED:
            order.remaining_hours += fill.hours
            order.status = _status(order)
            order.save(update_fields=["remaining_hours", "status", "updated_at"])
    Fill.objects.filter(id=fill.id).update(status=FillStatus.REFUSED, updated_at=timezone.now())
    fill.status = FillStatus.REFUSED


def bid_hold_release_unused(bid_id) -> bool:
    """Gives the rest of an ended bid's hold back, but only once no fill of it is still PENDING: such a fill
    is funded from that hold later (the periodic run), and could never be once it was released."""
    if Fill.objects.filter(bid_id=bid_id, status=FillStatus.PENDING).exists():
        return False
    escrow_release(key=bid_hold_key(bid_id))
    return True


def fills_complete(fills) -> None:
    for fill in fills:
        try:
            fill_complete(fill.id)
        except Exception:  # the periodic run completes it
            log.exception("fill %s could not be completed yet", fill.id)


def fill_escrows_refused_return() -> int:
    """Puts back into their bids' escrow what refused fills still hold (a crash between storing a refusal and
    moving its escrow back leaves some); returns how many."""
    held = escrows_held(fill_hold_key(""), timezone.now())
    refused = list(Fill.objects.filter(id__in=held, status=FillStatus.REFUSED))
    fills_complete(refused)
    return len(refused)
