"""The trade negotiation: request -> scored matches (offers) -> counter-terms, until one side accepts the terms on
the table (an agreement, settled through services/agreements.py) or the match is rejected."""

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from aitbc_site.errors import Conflict, Forbidden, Invalid
from aitbc_site.money import ZERO, money_str
from aitbc_site.parameters import parameter_get
from apps.accounts.facade import PrincipalView
from apps.trading.models import (
    MatchStatus,
    RequestStatus,
    SettlementMode,
    TradeAgreement,
    TradeMatch,
    TradeMilestone,
    TradeRequest,
)
from apps.trading.scoring import match_score
from apps.trading.selectors.trades import match_get_for, match_side, trade_request_get_for
from apps.trading.services.agreements import agreement_hold_key, agreement_pay
from apps.trading.services.events import trade_event_record
from apps.trading.services.ledger import DB, hold_place

MATCH_TTL = timedelta(hours=24)
OPEN_MATCH = (MatchStatus.PROPOSED, MatchStatus.COUNTERED)


def _milestones_checked(settlement: str, milestones: list[dict], price: Decimal) -> list[dict]:
    if settlement != SettlementMode.MILESTONES:
        if milestones:
            raise Invalid("milestones: only a milestones settlement has milestones")
        return []
    if not milestones:
        raise Invalid("milestones: a milestones settlement needs at least one milestone")
    total = sum((Decimal(str(m["amount"])) for m in milestones), ZERO)
    if total != price:
        raise Invalid(f"milestones: they add up to {money_str(total)} but the price is {money_str(price)}")
    return [{"title": m["title"], "amount": money_str(Decimal(str(m["amount"])))} for m in milestones]


def trade_request_create(
    *,
    buyer: PrincipalView,
    trade_type: str,
    title: str,
    requirements: dict,
    budget: Decimal,
    regions: list[str],
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> TradeRequest:
    if window_start and window_end and window_end <= window_start:
        raise Invalid("window_end must be after window_start")
    with transaction.atomic(using=DB):
        request = TradeRequest.objects.create(
            buyer_id=buyer.id,
            trade_type=trade_type,
            title=title,
            requirements=requirements,
            budget=budget,
            regions=regions,
            window_start=window_start,
            window_end=window_end,
        )
        trade_event_record("request_created", request, buyer.id, budget=money_str(budget))
    return request


def trade_request_cancel(*, buyer: PrincipalView, request_id: UUID) -> TradeRequest:
    with transaction.atomic(using=DB):
        request = trade_request_get_for(buyer, request_id, lock=True)
        if request.buyer_id != buyer.id and not buyer.is_admin:
            raise Forbidden("only the buyer may cancel a request")
        if request.status != RequestStatus.OPEN:
            raise Conflict(f"request {request_id} is {request.status}", code="request_closed")
        request.status = RequestStatus.CANCELED
        request.save(update_fields=["status", "updated_at"])
        request.matches.filter(status__in=OPEN_MATCH).update(status=MatchStatus.REJECTED, updated_at=timezone.now())
        trade_event_record("request_canceled", request, buyer.id)
    return request


def match_offer(
    *,
    seller: PrincipalView,
    request_id: UUID,
    price: Decimal,
    specification: dict,
    region: str,
    settlement: str,
    milestones: list[dict],
    message: str = "",
) -> TradeMatch:
    """A seller's offer on an open request, scored against it (price, fit, reputation, region)."""
    milestones = _milestones_checked(settlement, milestones, price)
    with transaction.atomic(using=DB):
        request = trade_request_get_for(seller, request_id, lock=True)
        if request.status != RequestStatus.OPEN:
            raise Conflict(f"request {request_id} is {request.status}", code="request_closed")
        if request.buyer_id == seller.id:
            raise Conflict("you cannot answer your own request", code="own_request")
        if request.matches.filter(seller_id=seller.id).exists():
            raise Conflict("you already answered this request: counter your offer instead", code="already_offered")
        score, breakdown = match_score(
            request, price=price, specification=specification, region=region, seller_id=seller.id
        )
        match = TradeMatch.objects.create(
            request=request,
            seller_id=seller.id,
            price=price,
            specification=specification,
            region=region,
            settlement=settlement,
            milestones=milestones,
            message=message,
            score=score,
            score_breakdown=breakdown,
            expires_at=timezone.now() + MATCH_TTL,
        )
        trade_event_record("match_offered", request, seller.id, match=match, price=money_str(price), score=score)
    return match


def match_open_or_409(match: TradeMatch) -> None:
    """409 unless the match is still open (proposed or countered), not expired, and its request open."""
    if match.status not in OPEN_MATCH:
        raise Conflict(f"match {match.id} is already {match.status}", code=f"match_{match.status.lower()}")
    if match.expires_at <= timezone.now():
        raise Conflict(f"match {match.id} expired at {match.expires_at.isoformat()}", code="match_expired")
    if match.request.status != RequestStatus.OPEN:
        raise Conflict(f"its request is {match.request.status}", code="request_closed")


def match_counter(
    *,
    principal: PrincipalView,
    match_id: UUID,
    price: Decimal,
    settlement: str,
    milestones: list[dict],
    message: str = "",
) -> TradeMatch:
    """The side answering the terms on the table proposes new ones; the other side may then accept them.

    A side may not replace its own standing terms: the other side's accept carries no terms, so they could
    otherwise change between its reading them and its accept landing (409 `own_terms`)."""
    milestones = _milestones_checked(settlement, milestones, price)
    with transaction.atomic(using=DB):
        match = match_get_for(principal, match_id, lock=True)
        side = match_side(principal, match)
        match_open_or_409(match)
        if match.proposed_by == side:
            raise Conflict(
                f"your terms are on the table; the {'buyer' if side == 'seller' else 'seller'} answers them next "
                "(or reject the match)",
                code="own_terms",
            )
        score, breakdown = match_score(
            match.request,
            price=price,
            specification=match.specification,
            region=match.region,
            seller_id=match.seller_id,
        )
        match.price, match.settlement, match.milestones, match.message = price, settlement, milestones, message
        match.score, match.score_breakdown = score, breakdown
        match.status, match.proposed_by, match.rounds = MatchStatus.COUNTERED, side, match.rounds + 1
        match.expires_at = timezone.now() + MATCH_TTL
        match.save()
        trade_event_record("match_countered", match.request, principal.id, match=match, by=side, price=money_str(price))
    return match


def match_reject(*, principal: PrincipalView, match_id: UUID) -> TradeMatch:
    with transaction.atomic(using=DB):
        match = match_get_for(principal, match_id, lock=True)
        side = match_side(principal, match)
        if match.status not in OPEN_MATCH:
            raise Conflict(f"match {match.id} is already {match.status}", code=f"match_{match.status.lower()}")
        match.status = MatchStatus.REJECTED
        match.save(update_fields=["status", "updated_at"])
        trade_event_record("match_rejected", match.request, principal.id, match=match, by=side)
    return match


def match_accept(*, principal: PrincipalView, match_id: UUID) -> TradeAgreement:
    """The side that did not make the terms on the table accepts them: an agreement, with the buyer's money
    held (escrow, milestones) or paid at once (immediate). 402 when the buyer cannot cover the price."""
    with transaction.atomic(using=DB):
        match = match_get_for(principal, match_id, lock=True)
        side = match_side(principal, match)
        request = TradeRequest.objects.select_for_update().get(id=match.request_id)
        match_open_or_409(match)
        if match.proposed_by == side:
            raise Conflict("you made the terms on the table: the other side accepts them", code="own_terms")
        agreement = TradeAgreement.objects.create(
            request=request,
            match=match,
            buyer_id=request.buyer_id,
            seller_id=match.seller_id,
            price=match.price,
            settlement=match.settlement,
            terms={"specification": match.specification, "region": match.region, "rounds": match.rounds},
            fee_bps=parameter_get("platform_fee_bps"),
        )
        milestones: list[TradeMilestone | None] = [
            TradeMilestone.objects.create(
                agreement=agreement, position=i, title=m["title"], amount=Decimal(m["amount"])
            )
            for i, m in enumerate(match.milestones)
        ]
        for milestone in milestones or [None]:
            amount = milestone.amount if milestone else agreement.price
            hold_place(
                owner_id=agreement.buyer_id,
                key=agreement_hold_key(agreement, milestone),
                amount=amount,
                what="this agreement",
            )
        match.status = MatchStatus.ACCEPTED
        match.save(update_fields=["status", "updated_at"])
        request.matches.exclude(id=match.id).filter(status__in=OPEN_MATCH).update(status=MatchStatus.REJECTED)
        request.status = RequestStatus.AGREED
        request.save(update_fields=["status", "updated_at"])
        price = money_str(match.price)
        trade_event_record("agreement_made", request, principal.id, match=match, agreement=agreement, price=price)
        if agreement.settlement == SettlementMode.IMMEDIATE:
            agreement_pay(agreement, None, agreement.price, actor=principal.id)
    return agreement
