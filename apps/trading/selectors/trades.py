"""Reads of the trade domain: views, lists, analytics from stored data, the event log."""

from uuid import UUID

from django.db.models import Avg, Count, Q, Sum

from aitbc_site.errors import NotFound
from aitbc_site.money import ZERO, MoneyField, money_str
from aitbc_site.times import iso
from apps.accounts.facade import PrincipalView
from apps.trading.models import (
    Block,
    Entry,
    RequestStatus,
    TradeAgreement,
    TradeEvent,
    TradeMatch,
    TradeRequest,
    TradeSettlement,
)


def request_view(request: TradeRequest) -> dict:
    return {
        "request_id": request.id,
        "buyer_id": request.buyer_id,
        "trade_type": request.trade_type,
        "title": request.title,
        "requirements": request.requirements,
        "budget": money_str(request.budget),
        "window_start": iso(request.window_start),
        "window_end": iso(request.window_end),
        "regions": request.regions,
        "status": request.status,
        "created_at": iso(request.created_at),
    }


def match_view(match: TradeMatch) -> dict:
    return {
        "match_id": match.id,
        "request_id": match.request_id,
        "seller_id": match.seller_id,
        "price": money_str(match.price),
        "specification": match.specification,
        "region": match.region,
        "settlement": match.settlement,
        "milestones": match.milestones,
        "message": match.message,
        "score": match.score,
        "score_breakdown": match.score_breakdown,
        "status": match.status,
        "proposed_by": match.proposed_by,
        "rounds": match.rounds,
        "expires_at": iso(match.expires_at),
    }


def settlement_view(settlement: TradeSettlement) -> dict:
    return {
        "settlement_id": settlement.id,
        "agreement_id": settlement.agreement_id,
        "milestone_id": settlement.milestone_id,
        "amount": money_str(settlement.amount),
        "fee": money_str(settlement.fee),
        "entry_id": settlement.entry_id,
        "created_at": iso(settlement.created_at),
    }


def agreement_view(agreement: TradeAgreement) -> dict:
    return {
        "agreement_id": agreement.id,
        "request_id": agreement.request_id,
        "match_id": agreement.match_id,
        "buyer_id": agreement.buyer_id,
        "seller_id": agreement.seller_id,
        "price": money_str(agreement.price),
        "settlement": agreement.settlement,
        "terms": agreement.terms,
        "fee_bps": agreement.fee_bps,
        "settled_amount": money_str(agreement.settled_amount),
        "status": agreement.status,
        "milestones": [
            {"milestone_id": m.id, "title": m.title, "amount": money_str(m.amount), "settled": m.settled}
            for m in agreement.milestones.all()
        ],
        "settlements": [settlement_view(s) for s in agreement.settlements.all()],
        "created_at": iso(agreement.created_at),
    }


def trade_request_get_for(principal: PrincipalView, request_id: UUID, *, lock: bool = False) -> TradeRequest:
    """Open requests are public; a closed one is seen by its buyer, its sellers and admins."""
    requests = TradeRequest.objects.select_for_update() if lock else TradeRequest.objects
    request = requests.filter(id=request_id).first()
    if request is None or not (
        request.status == RequestStatus.OPEN
        or principal.is_admin
        or request.buyer_id == principal.id
        or request.matches.filter(seller_id=principal.id).exists()
    ):
        raise NotFound(f"no trade request {request_id}")
    return request


def match_get_for(principal: PrincipalView, match_id: UUID, *, lock: bool = False) -> TradeMatch:
    matches = TradeMatch.objects.select_for_update() if lock else TradeMatch.objects
    match = matches.select_related("request").filter(id=match_id).first()
    if match is None or (not principal.is_admin and principal.id not in (match.request.buyer_id, match.seller_id)):
        raise NotFound(f"no match {match_id}")
    return match


def match_side(principal: PrincipalView, match: TradeMatch) -> str:
    """ "buyer" or "seller": the principal's side of the match (404 for anyone else, admins included)."""
    if principal.id == match.request.buyer_id:
        return "buyer"
    if principal.id == match.seller_id:
        return "seller"
    raise NotFound(f"no match {match.id}")


def agreement_get_for(principal: PrincipalView, agreement_id: UUID, *, lock: bool = False) -> TradeAgreement:
    agreements = TradeAgreement.objects.select_for_update() if lock else TradeAgreement.objects
    agreement = agreements.filter(id=agreement_id).first()
    if agreement is None or (not principal.is_admin and principal.id not in (agreement.buyer_id, agreement.seller_id)):
        raise NotFound(f"no agreement {agreement_id}")
    return agreement


def party_filter(principal: PrincipalView, buyer="buyer_id", seller="seller_id") -> Q:
    return Q() if principal.is_admin else Q(**{buyer: principal.id}) | Q(**{seller: principal.id})


def request_list_for(principal: PrincipalView, *, status=None, mine=False, limit=50, offset=0):
    requests = TradeRequest.objects.all()
    if mine or not principal.is_admin:
        own = Q(buyer_id=principal.id) | Q(matches__seller_id=principal.id)
        requests = requests.filter(own if mine else own | Q(status="OPEN")).distinct()
    if status:
        requests = requests.filter(status=status)
    requests = requests.order_by("-created_at")
    return requests.count(), [request_view(r) for r in requests[offset : offset + limit]]


def match_list_for(principal: PrincipalView, request: TradeRequest, limit: int = 50, offset: int = 0):
    """A request's matches, best score first: all of them for its buyer (and admins), a seller's own otherwise."""
    matches = request.matches.all()
    if request.buyer_id != principal.id and not principal.is_admin:
        matches = matches.filter(seller_id=principal.id)
    matches = matches.order_by("-score", "created_at", "id")
    return matches.count(), [match_view(m) for m in matches[offset : offset + limit]]


def agreement_list_for(principal: PrincipalView, *, limit: int = 50, offset: int = 0):
    """The agreements the principal is party to, newest first (an admin sees all)."""
    agreements = TradeAgreement.objects.filter(party_filter(principal)).order_by("-created_at")
    return agreements.count(), [agreement_view(a) for a in agreements[offset : offset + limit]]


def settlement_list_for(principal: PrincipalView, *, limit: int = 50, offset: int = 0):
    """The settlements of the agreements the principal is party to, newest first (an admin sees all)."""
    mine = party_filter(principal, buyer="agreement__buyer_id", seller="agreement__seller_id")
    settlements = TradeSettlement.objects.filter(mine).order_by("-created_at")
    return settlements.count(), [settlement_view(s) for s in settlements[offset : offset + limit]]


def trading_analytics() -> dict:
    requests = TradeRequest.objects.count()
    agreed = TradeRequest.objects.filter(status="AGREED").count()
    by_type = []
    for row in TradeAgreement.objects.values("request__trade_type", "origin").annotate(
        agreements=Count("id"), average_price=Avg("price", output_field=MoneyField()), settled=Sum("settled_amount")
    ):
        by_type.append(
            {
                "trade_type": row["request__trade_type"] or "gpu_hours",  # order-book fills
                "agreements": row["agreements"],
                "average_price": money_str(row["average_price"]),
                "settled_volume": money_str(row["settled"] or ZERO),
            }
        )
    matches = TradeMatch.objects.count()
    return {
        "requests": requests,
        "agreements": TradeAgreement.objects.count(),
        "match_rate": round(agreed / requests, 4) if requests else None,
        "matches_per_request": round(matches / requests, 4) if requests else None,
        "settled_volume": money_str(TradeSettlement.objects.aggregate(s=Sum("amount"))["s"] or ZERO),
        "fees": money_str(TradeSettlement.objects.aggregate(s=Sum("fee"))["s"] or ZERO),
        "by_trade_type": sorted(by_type, key=lambda row: row["trade_type"]),
    }


def trading_status() -> dict:
    counts = lambda model: dict(model.objects.values_list("status").annotate(n=Count("id")))  # noqa: E731
    last = Block.objects.order_by("-height").first()
    return {
        "service": "trading",
        "requests": counts(TradeRequest),
        "matches": counts(TradeMatch),
        "agreements": counts(TradeAgreement),
        "ledger_entries": Entry.objects.count(),
        "block_height": last.height if last else None,
    }


def event_list_for(principal: PrincipalView, *, limit=50, offset=0):
    events = TradeEvent.objects.filter(party_filter(principal)).order_by("-created_at")
    rows = [
        {
            "event_id": e.id,
            "kind": e.kind,
            "request_id": e.request_id,
            "match_id": e.match_id,
            "agreement_id": e.agreement_id,
            "actor_id": e.actor_id,
            "data": e.data,
            "created_at": iso(e.created_at),
        }
        for e in events[offset : offset + limit]
    ]
    return events.count(), rows
