"""`/v1/transactions` on the marketplace and gpu services: the GPU market's event log (GET), and the
seed's GPU-market actions (POST {"action": ...}): offer, bid, list, cancel, accept, status, match.
Each action is a thin call into the same services the /v1/offers and /v1/bids endpoints use."""

from typing import Any, Literal
from uuid import UUID

from django.db.models import Q, Value
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel, ValidationError

from aitbc_site.errors import Forbidden, Invalid, NotFound
from aitbc_site.times import iso
from apps.accounts.auth import any_principal
from apps.accounts.idempotency import idempotent
from apps.marketplace.api.schemas import BidIn, OfferIn
from apps.marketplace.engine import gpu_class_of
from apps.marketplace.models import Bid, Fill, FillStatus, Offer
from apps.marketplace.selectors import bid_view, offer_view, offers_filter, order_book
from apps.marketplace.services import bid_cancel, bid_create, class_book_match, offer_create, offer_withdraw


class Action(Schema):
    action: Literal["offer", "bid", "list", "cancel", "accept", "status", "match"]
    params: dict[str, Any] = Field(default_factory=dict)


class ListParams(BaseModel):
    filter: str = Field(default="", max_length=500)


class CancelParams(BaseModel):
    order_id: UUID


class StatusParams(BaseModel):
    gpu_model: str | None = Field(default=None, max_length=100)


class ModelParams(BaseModel):
    gpu_model: str = Field(min_length=1, max_length=100)


MATCH_BIDS = 20  # the best bids of a class one `match` action matches; the periodic run matches them all


def _params(schema: type[BaseModel], params: dict):
    """The action's params read by `schema` (other keys are left for the order's own schema): 422 naming the field."""
    try:
        return schema.model_validate(params)
    except ValidationError as exc:
        detail = "; ".join(f"params.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise Invalid(detail) from None


def market_events(principal, *, limit: int, offset: int) -> tuple[int, list[dict]]:
    """Orders placed and fills made, newest first: the caller's own (an admin sees all). Paged in the database:
    one ordered query over the three kinds picks the page, then only its rows are read."""
    everyone = principal.is_admin
    offers = Offer.objects.filter(Q() if everyone else Q(provider_id=principal.id))
    bids = Bid.objects.filter(Q() if everyone else Q(client_id=principal.id))
    fills = Fill.objects.filter(
        Q() if everyone else Q(bid__client_id=principal.id) | Q(offer__provider_id=principal.id)
    )
    rows = lambda qs, kind: qs.order_by().values_list("created_at", "id", Value(kind))  # noqa: E731
    events = rows(offers, "offer").union(rows(bids, "bid"), rows(fills, "fill"), all=True)
    page = list(events.order_by("-created_at", "-id")[offset : offset + limit])
    found = {
        kind: {o.id: o for o in model.objects.filter(id__in=[i for _, i, k in page if k == kind])}
        for kind, model in (("offer", Offer), ("bid", Bid), ("fill", Fill))
    }
    items = []
    for at, order_id, kind in page:
        order = found[kind][order_id]  # found[kind] holds that kind's model only
        if isinstance(order, Offer):
            event, data = "offer_placed", offer_view(order)
        elif isinstance(order, Bid):
            event, data = "bid_placed", {"bid_id": order.id, "status": order.status}
        else:
            event = "fill_refused" if order.status == FillStatus.REFUSED else "filled"
            data = {"fill_id": order.id, "offer_id": order.offer_id, "bid_id": order.bid_id, "hours": str(order.hours)}
        items.append({"kind": event, "at": iso(at), "data": data})
    return offers.count() + bids.count() + fills.count(), items


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
            expression = _params(ListParams, params).filter
            offers = Offer.objects.filter(offers_filter(expression)).order_by("price_per_hour", "created_at")[:100]
            return {"items": [offer_view(o) for o in offers]}
        if body.action == "cancel":
            order_id = _params(CancelParams, params).order_id
            if Bid.objects.filter(id=order_id).exists():
                return bid_view(bid_cancel(client=who, bid_id=order_id))
            return offer_view(offer_withdraw(miner=who, offer_id=order_id))
        if body.action == "status":
            return order_book(_params(StatusParams, params).gpu_model)
        gpu_model = _params(ModelParams, params).gpu_model
        if body.action == "match":
            return {"fills": len(class_book_match(gpu_class_of(gpu_model), bids=MATCH_BIDS))}
        # accept: take the best ask of a model for some hours, as a bid at that ask's price
        if "hours" not in params:
            raise Invalid("params.hours: Field required")
        best = Offer.objects.filter(gpu_class=gpu_class_of(gpu_model), status__in=("OPEN", "PARTIAL")).first()
        if best is None:
            raise NotFound(f"no open offer of {gpu_model}")
        if who.role not in ("client", "admin"):
            raise Forbidden("only a client may accept an offer")
        bid_params = {"gpu_model": gpu_model, "max_price_per_hour": str(best.price_per_hour)}
        return bid_view(bid_create(client=who, **_bid_params({**params, **bid_params})))

    return router


def _offer_params(params: dict) -> dict:
    return _params(OfferIn, params).model_dump()


def _bid_params(params: dict) -> dict:
    return _params(BidIn, params).model_dump()
