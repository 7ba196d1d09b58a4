"""`/v1/transactions` on the marketplace and gpu services: the GPU market's event log (GET), and the
seed's GPU-market actions (POST {"action": ...}): offer, bid, list, cancel, accept, status, match.
Each action is a thin call into the same services the /v1/offers and /v1/bids endpoints use."""

from typing import Any, Literal
from uuid import UUID

from django.db.models import Q
from ninja import Field, Query, Router, Schema

from aitbc_site.errors import Forbidden, Invalid, NotFound
from aitbc_site.times import iso
from apps.accounts.auth import any_principal
from apps.accounts.idempotency import idempotent
from apps.marketplace.engine import book_match, gpu_class_of
from apps.marketplace.models import Bid, Fill, FillStatus, Offer
from apps.marketplace.selectors import bid_view, offer_view, offers_filter, order_book
from apps.marketplace.services import bid_cancel, bid_create, offer_create, offer_withdraw


class Action(Schema):
    action: Literal["offer", "bid", "list", "cancel", "accept", "status", "match"]
    params: dict[str, Any] = Field(default_factory=dict)


def _need(params: dict, *names: str) -> list:
    missing = [n for n in names if n not in params]
    if missing:
        raise Invalid(f"params: missing {', '.join(missing)}")
    return [params[n] for n in names]


def market_events(principal, *, limit: int, offset: int) -> tuple[int, list[dict]]:
    """Orders placed and fills made, newest first: the caller's own (an admin sees all)."""
    mine = Q() if principal.is_admin else Q(provider_id=principal.id)
    events = [("offer_placed", o.created_at, offer_view(o)) for o in Offer.objects.filter(mine)]
    bids = Q() if principal.is_admin else Q(client_id=principal.id)
    events += [("bid_placed", b.created_at, {"bid_id": b.id, "status": b.status}) for b in Bid.objects.filter(bids)]
    fills = Q() if principal.is_admin else Q(bid__client_id=principal.id) | Q(offer__provider_id=principal.id)
    events += [
        (
            "fill_refused" if f.status == FillStatus.REFUSED else "filled",
            f.created_at,
            {"fill_id": f.id, "offer_id": f.offer_id, "bid_id": f.bid_id, "hours": str(f.hours)},
        )
        for f in Fill.objects.filter(fills)
    ]
    events.sort(key=lambda e: e[1], reverse=True)
    rows = [{"kind": kind, "at": iso(at), "data": data} for kind, at, data in events[offset : offset + limit]]
    return len(events), rows


def transactions_router() -> Router:
    router = Router(tags=["transactions"])

    @router.get("/transactions", auth=any_principal)
    def transactions(request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):
        """The GPU market's event log: your orders and fills, newest first."""
        count, items = market_events(request.auth, limit=limit, offset=offset)
        return {"items": items, "count": count}

    @router.post("/transactions", auth=any_principal)
    @idempotent
    def transaction_action(request, body: Action):
        """The seed's GPU-market actions; `params` are those of the matching /v1/offers or /v1/bids call."""
        who, params = request.auth, body.params
        if body.action == "offer":
            return offer_view(offer_create(miner=who, **_offer_params(params)))
        if body.action == "bid":
            if who.role not in ("client", "admin"):
                raise Forbidden("only a client may bid")
            return bid_view(bid_create(client=who, **_bid_params(params)))
        if body.action == "list":
            offers = Offer.objects.filter(offers_filter(params.get("filter", ""))).order_by("price_per_hour")[:100]
            return {"items": [offer_view(o) for o in offers]}
        if body.action == "cancel":
            (order_id,) = _need(params, "order_id")
            if Bid.objects.filter(id=order_id).exists():
                return bid_view(bid_cancel(client=who, bid_id=UUID(str(order_id))))
            return offer_view(offer_withdraw(miner=who, offer_id=UUID(str(order_id))))
        if body.action == "status":
            return order_book(params.get("gpu_model"))
        if body.action == "match":
            (gpu_model,) = _need(params, "gpu_model")
            return {"fills": len(book_match(gpu_class_of(gpu_model)))}
        # accept: take the best ask of a model for some hours, as a bid at that ask's price
        gpu_model, hours = _need(params, "gpu_model", "hours")
        best = Offer.objects.filter(gpu_class=gpu_class_of(gpu_model), status__in=("OPEN", "PARTIAL")).first()
        if best is None:
            raise NotFound(f"no open offer of {gpu_model}")
        if who.role not in ("client", "admin"):
            raise Forbidden("only a client may accept an offer")
        bid_params = {"gpu_model": gpu_model, "hours": hours, "max_price_per_hour": str(best.price_per_hour)}
        return bid_view(bid_create(client=who, **_bid_params({**params, **bid_params})))

    return router


def _offer_params(params: dict) -> dict:
    from apps.marketplace.api import OfferIn

    return OfferIn(**params).model_dump()


def _bid_params(params: dict) -> dict:
    from apps.marketplace.api import BidIn

    return BidIn(**params).model_dump()
