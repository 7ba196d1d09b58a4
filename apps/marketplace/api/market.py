"""The GPU-hour market: offers (miners), bids (clients), the order book and its analytics."""

from uuid import UUID

from django.db.models import Q
from ninja import Query, Router, Status

from aitbc_site.api import Error
from aitbc_site.errors import NotFound
from apps.accounts.auth import any_principal, clients, miners
from apps.accounts.idempotency import idempotency_key, idempotent
from apps.marketplace.api.schemas import BidIn, OfferIn
from apps.marketplace.models import Bid, Offer
from apps.marketplace.selectors import bid_view, market_analytics, offer_view, offers_filter, order_book
from apps.marketplace.services import bid_cancel, bid_create, offer_create, offer_withdraw

router = Router(tags=["market"])
Limit = Query(50, ge=1, le=500)
Offset = Query(0, ge=0, le=1_000_000)


@router.post("/offers", auth=miners, response={201: dict, 409: Error, 422: Error})
@idempotent
def offers_create(request, body: OfferIn):
    """A miner offers GPU hours; it is matched against the bids at once."""
    return Status(201, offer_view(offer_create(miner=request.auth, **body.model_dump())))


@router.get("/offers", auth=any_principal, response={200: dict, 422: Error})
def offers_list(
    request,
    filter: str = Query("", max_length=500, description="e.g. `gpu_memory_gb>=24 region=eu price_per_hour<2`"),
    mine: bool = False,
    limit: int = Limit,
    offset: int = Offset,
):
    """Offers, cheapest first; `filter` narrows them and refuses unknown fields and models."""
    offers = Offer.objects.filter(offers_filter(filter)).order_by("price_per_hour", "created_at")
    if mine:
        offers = offers.filter(provider_id=request.auth.id)
    return {"items": [offer_view(o) for o in offers[offset : offset + limit]], "count": offers.count()}


@router.get("/offers/{offer_id}", auth=any_principal, response={200: dict, 404: Error})
def offers_get(request, offer_id: UUID):
    offer = Offer.objects.filter(id=offer_id).first()
    if offer is None:
        raise NotFound(f"no offer {offer_id}")
    return offer_view(offer)


@router.delete("/offers/{offer_id}", auth=miners, response={200: dict, 404: Error, 409: Error})
def offers_withdraw(request, offer_id: UUID):
    """Withdraw the unfilled rest of your offer."""
    return offer_view(offer_withdraw(miner=request.auth, offer_id=offer_id))


@router.post("/bids", auth=clients, response={201: dict, 402: Error, 422: Error})
@idempotent
def bids_create(request, body: BidIn):
    """A client bids for GPU hours; max_price_per_hour x hours x gpu_count is held until the bid ends."""
    placed = bid_create(client=request.auth, idempotency_key=idempotency_key(request), **body.model_dump())
    return Status(201, bid_view(placed))


def _bid_for(principal, bid_id) -> Bid:
    bid = Bid.objects.filter(id=bid_id).first()
    if bid is None or (bid.client_id != principal.id and not principal.is_admin):
        raise NotFound(f"no bid {bid_id}")
    return bid


@router.get("/bids", auth=clients)
def bids_list(request, limit: int = Limit, offset: int = Offset):
    bids = Bid.objects.filter(Q() if request.auth.is_admin else Q(client_id=request.auth.id)).order_by("-created_at")
    return {"items": [bid_view(b) for b in bids[offset : offset + limit]], "count": bids.count()}


@router.get("/bids/{bid_id}", auth=clients, response={200: dict, 404: Error})
def bids_get(request, bid_id: UUID):
    """Your bid with its fills and, while it is open, why it is not (fully) filled."""
    return bid_view(_bid_for(request.auth, bid_id))


@router.delete("/bids/{bid_id}", auth=clients, response={200: dict, 404: Error, 409: Error})
def bids_cancel(request, bid_id: UUID):
    """Cancel the unfilled rest of your bid; its escrow goes back to you."""
    return bid_view(bid_cancel(client=request.auth, bid_id=bid_id))


@router.get("/orderbook", auth=any_principal, response={200: dict, 422: Error})
def orderbook(request, gpu_model: str | None = Query(None, max_length=100), limit: int = Limit, offset: int = Offset):
    """What is left to buy and sell: asks cheapest first, bids highest first; `limit` and `offset` page each side
    (`ask_count` and `bid_count` say how many there are)."""
    return order_book(gpu_model, limit=limit, offset=offset)


@router.get("/marketplace/analytics", auth=any_principal, response={200: dict, 422: Error})
def analytics(request, limit: int = Limit, offset: int = Offset):
    """Volume, VWAP, spread, depth and fill rate per GPU class (paged: `count` classes in all), from stored fills
    and orders; `volume` and `fills` cover every class."""
    return market_analytics(limit=limit, offset=offset)
