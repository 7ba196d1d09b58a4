"""/v1/trading/...: requests, matches (offers, counters, accept), agreements, settlements, analytics."""

from typing import Annotated, Literal
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict, StrictFloat, StrictInt

from aitbc_site.api import Error
from aitbc_site.inputs import Amount, Moment
from apps.accounts.auth import any_principal, clients
from apps.accounts.idempotency import idempotent
from apps.trading.selectors.trades import (
    agreement_get_for,
    agreement_list_for,
    agreement_view,
    event_list_for,
    match_get_for,
    match_list_for,
    match_view,
    request_list_for,
    request_view,
    settlement_list_for,
    settlement_view,
    trade_request_get_for,
    trading_analytics,
)
from apps.trading.services import agreements, trades

router = Router(tags=["trading"])
SETTLEMENT_MODES = Literal["immediate", "escrow", "milestones"]
Limit = Query(50, ge=1, le=500)
Offset = Query(0, ge=0, le=1_000_000)
Region = Annotated[str, Field(max_length=64)]
# what scoring compares (gpu_count, GB, hours): a JSON number (not a string or a bool), within any real offer
Quantity = Annotated[StrictInt, Field(ge=0, le=10**9)] | Annotated[StrictFloat, Field(ge=0, le=1e9)]


class Requirements(BaseModel):  # not a ninja Schema: that reads any value's attributes, a list too
    """The buyer's requirements: the keys scoring reads must have the types it compares (a number is a JSON
    number, not a string); other keys are kept as they are."""

    model_config = ConfigDict(extra="allow", strict=True)
    # A key may be left out but not sent as null: pydantic does not validate a default, so None stands for "not
    # sent" (only the keys sent are read, _given) while the type refuses a null. mypy cannot say "None as default
    # only", hence the ignores; `str | None` would accept a null and change the contract.
    gpu_model: Annotated[str, Field(max_length=100)] = None  # type: ignore[assignment]  # unvalidated default
    min_vram_gb: Quantity = None  # type: ignore[assignment]  # unvalidated default, see above
    gpu_count: Quantity = None  # type: ignore[assignment]  # unvalidated default, see above
    hours: Quantity = None  # type: ignore[assignment]  # unvalidated default, see above
    models: list[Annotated[str, Field(max_length=200)]] = Field(
        default=None,  # type: ignore[arg-type]  # unvalidated default, see above
        max_length=100,
    )


class Specification(BaseModel):
    """What a seller offers, read against the requirements (a key may be null: not offered)."""

    model_config = ConfigDict(extra="allow", strict=True)
    gpu_model: Annotated[str, Field(max_length=100)] | None = None
    vram_gb: Quantity | None = None
    gpu_count: Quantity | None = None
    hours: Quantity | None = None
    models: list[Annotated[str, Field(max_length=200)]] | None = Field(default=None, max_length=100)


class RequestIn(Schema):
    model_config = ConfigDict(extra="forbid")
    trade_type: Literal["compute", "ai_service", "data"]
    title: str = Field(min_length=1, max_length=200)
    requirements: Requirements = Field(
        default_factory=Requirements, description="e.g. gpu_model, min_vram_gb, gpu_count, hours, models"
    )
    budget: Amount
    window_start: Moment | None = None
    window_end: Moment | None = None
    regions: list[Region] = Field(default_factory=list, max_length=20)


class MilestoneIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    amount: Amount


class TermsIn(Schema):
    model_config = ConfigDict(extra="forbid")
    price: Amount
    settlement: SETTLEMENT_MODES = "escrow"
    milestones: list[MilestoneIn] = Field(default_factory=list, max_length=50)
    message: str = Field(default="", max_length=1000)


class OfferIn(TermsIn):
    specification: Specification = Field(
        default_factory=Specification, description="what the seller offers: gpu_model, vram_gb, ..."
    )
    region: Region = ""


class SettleIn(Schema):
    model_config = ConfigDict(extra="forbid")
    milestone_id: UUID | None = None
    amount: Amount | None = None


def _given(values: Requirements | Specification) -> dict:
    """The object as sent (the keys it had, none added)."""
    return values.model_dump(exclude_unset=True)


def _milestones(body: TermsIn) -> list[dict]:
    return [m.model_dump() for m in body.milestones]


@router.post("/requests", auth=clients, response={201: dict, 422: Error})
@idempotent
def request_create(request, body: RequestIn):
    """A buyer asks for compute or a service, with a budget, a time window and regions."""
    created = trades.trade_request_create(
        buyer=request.auth, **body.model_dump(exclude={"requirements"}), requirements=_given(body.requirements)
    )
    return Status(201, request_view(created))


@router.get("/requests", auth=any_principal)
def request_list(
    request,
    status: Literal["OPEN", "AGREED", "CANCELED"] | None = None,
    mine: bool = False,
    limit: int = Limit,
    offset: int = Offset,
):
    """Open requests (for sellers) and your own."""
    count, items = request_list_for(request.auth, status=status, mine=mine, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.get("/requests/{request_id}", auth=any_principal, response={200: dict, 404: Error})
def request_get(request, request_id: UUID):
    return request_view(trade_request_get_for(request.auth, request_id))


@router.post("/requests/{request_id}/cancel", auth=clients, response={200: dict, 403: Error, 404: Error, 409: Error})
def request_cancel(request, request_id: UUID):
    return request_view(trades.trade_request_cancel(buyer=request.auth, request_id=request_id))


@router.post(
    "/requests/{request_id}/matches", auth=any_principal, response={201: dict, 404: Error, 409: Error, 422: Error}
)
@idempotent
def match_create(request, request_id: UUID, body: OfferIn):
    """A seller answers a request; the offer is scored (price, fit, reputation, region) for the buyer."""
    match = trades.match_offer(
        seller=request.auth,
        request_id=request_id,
        price=body.price,
        specification=_given(body.specification),
        region=body.region,
        settlement=body.settlement,
        milestones=_milestones(body),
        message=body.message,
    )
    return Status(201, match_view(match))


@router.get("/requests/{request_id}/matches", auth=any_principal, response={200: dict, 404: Error, 422: Error})
def match_list(request, request_id: UUID, limit: int = Limit, offset: int = Offset):
    """Best score first. The buyer sees every offer; a seller sees its own."""
    count, items = match_list_for(request.auth, trade_request_get_for(request.auth, request_id), limit, offset)
    return {"items": items, "count": count}


@router.get("/matches/{match_id}", auth=any_principal, response={200: dict, 404: Error})
def match_get(request, match_id: UUID):
    return match_view(match_get_for(request.auth, match_id))


@router.post(
    "/matches/{match_id}/counter", auth=any_principal, response={200: dict, 404: Error, 409: Error, 422: Error}
)
def match_counter(request, match_id: UUID, body: TermsIn):
    """New terms from either side; the other side may accept them."""
    match = trades.match_counter(
        principal=request.auth,
        match_id=match_id,
        price=body.price,
        settlement=body.settlement,
        milestones=_milestones(body),
        message=body.message,
    )
    return match_view(match)


@router.post("/matches/{match_id}/accept", auth=any_principal, response={201: dict, 402: Error, 404: Error, 409: Error})
@idempotent
def match_accept(request, match_id: UUID):
    """The other side accepts the terms on the table: an agreement, with the buyer's money held or paid."""
    return Status(201, agreement_view(trades.match_accept(principal=request.auth, match_id=match_id)))


@router.post("/matches/{match_id}/reject", auth=any_principal, response={200: dict, 404: Error, 409: Error})
def match_reject(request, match_id: UUID):
    return match_view(trades.match_reject(principal=request.auth, match_id=match_id))


@router.get("/agreements", auth=any_principal)
def agreement_list(request, limit: int = Limit, offset: int = Offset):
    count, items = agreement_list_for(request.auth, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.get("/agreements/{agreement_id}", auth=any_principal, response={200: dict, 404: Error})
def agreement_get(request, agreement_id: UUID):
    return agreement_view(agreement_get_for(request.auth, agreement_id))


@router.post(
    "/agreements/{agreement_id}/settlements",
    auth=any_principal,
    response={201: dict, 403: Error, 404: Error, 409: Error, 422: Error},
)
@idempotent
def agreement_settle(request, agreement_id: UUID, body: SettleIn):
    """The buyer pays: one milestone, or the escrow (up to the agreed price). Repeating it pays nothing more."""
    settlement = agreements.agreement_settle(
        principal=request.auth, agreement_id=agreement_id, milestone_id=body.milestone_id, amount=body.amount
    )
    return Status(201, settlement_view(settlement))


@router.post(
    "/agreements/{agreement_id}/cancel", auth=any_principal, response={200: dict, 403: Error, 404: Error, 409: Error}
)
def agreement_cancel(request, agreement_id: UUID):
    """The seller walks away; what is still held goes back to the buyer."""
    return agreement_view(agreements.agreement_cancel(principal=request.auth, agreement_id=agreement_id))


@router.get("/settlements", auth=any_principal)
def settlement_list(request, limit: int = Limit, offset: int = Offset):
    count, items = settlement_list_for(request.auth, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.get("/analytics", auth=any_principal)
def analytics(request):
    """Volumes, average agreed prices and match rates, from the stored trades."""
    return trading_analytics()


events = Router(tags=["trading"])


@events.get("/transactions", auth=any_principal)
def transaction_log(request, limit: int = Limit, offset: int = Offset):
    """This domain's event log: what happened to the trades you are party to (an admin sees all)."""
    count, items = event_list_for(request.auth, limit=limit, offset=offset)
    return {"items": items, "count": count}
