"""The trade life cycle: request -> scored matches -> counter-terms -> agreement -> settlement.

Money moves only through the ledger: an agreement holds the buyer's money (all of it, or per
milestone), a settlement captures a hold and pays the seller minus the platform fee. Every payment
is keyed by agreement and milestone, so a replay moves nothing.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from aitbc_site.errors import Conflict, Forbidden, Invalid, NotFound
from aitbc_site.money import ZERO, money_str, quantize
from apps.accounts.facade import PrincipalView
from apps.governance.facade import parameter_get
from apps.trading.models import (
    AccountKind,
    AgreementStatus,
    MatchStatus,
    RequestStatus,
    SettlementMode,
    TradeAgreement,
    TradeEvent,
    TradeMatch,
    TradeMilestone,
    TradeRequest,
    TradeSettlement,
)
from apps.trading.scoring import match_score
from apps.trading.services.ledger import DB, account_for, hold_capture, hold_place, hold_release, system_account

MATCH_TTL = timedelta(hours=24)
OPEN_MATCH = (MatchStatus.PROPOSED, MatchStatus.COUNTERED)


def _event(kind: str, request: TradeRequest, actor: UUID | None, *, match=None, agreement=None, **data) -> None:
    TradeEvent.objects.create(
        kind=kind,
        request_id=request.id,
        match_id=match.id if match else None,
        agreement_id=agreement.id if agreement else None,
        actor_id=actor,
        buyer_id=request.buyer_id,
        seller_id=match.seller_id if match else (agreement.seller_id if agreement else None),
        data=data,
    )


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
        _event("request_created", request, buyer.id, budget=money_str(budget))
    return request


def trade_request_get_for(principal: PrincipalView, request_id: UUID, *, lock: bool = False) -> TradeRequest:
    """Open requests are public; a closed one is seen by its buyer, its sellers and admins."""
    requests = TradeRequest.objects.select_for_update() if lock else TradeRequest.objects
    request = requests.filter(id=request_id).first()
    visible = request is not None and (
        request.status == RequestStatus.OPEN
        or principal.is_admin
        or request.buyer_id == principal.id
        or request.matches.filter(seller_id=principal.id).exists()
    )
    if not visible:
        raise NotFound(f"no trade request {request_id}")
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
        _event("request_canceled", request, buyer.id)
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
        _event("match_offered", request, seller.id, match=match, price=money_str(price), score=score)
    return match


def _side(principal: PrincipalView, match: TradeMatch) -> str:
    if principal.id == match.request.buyer_id:
        return "buyer"
    if principal.id == match.seller_id:
        return "seller"
    raise NotFound(f"no match {match.id}")


def match_get_for(principal: PrincipalView, match_id: UUID, *, lock: bool = False) -> TradeMatch:
    matches = TradeMatch.objects.select_for_update() if lock else TradeMatch.objects
    match = matches.select_related("request").filter(id=match_id).first()
    if match is None or (not principal.is_admin and principal.id not in (match.request.buyer_id, match.seller_id)):
        raise NotFound(f"no match {match_id}")
    return match


def _open_or_409(match: TradeMatch) -> None:
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
        side = _side(principal, match)
        _open_or_409(match)
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
        _event("match_countered", match.request, principal.id, match=match, by=side, price=money_str(price))
    return match


def match_reject(*, principal: PrincipalView, match_id: UUID) -> TradeMatch:
    with transaction.atomic(using=DB):
        match = match_get_for(principal, match_id, lock=True)
        side = _side(principal, match)
        if match.status not in OPEN_MATCH:
            raise Conflict(f"match {match.id} is already {match.status}", code=f"match_{match.status.lower()}")
        match.status = MatchStatus.REJECTED
        match.save(update_fields=["status", "updated_at"])
        _event("match_rejected", match.request, principal.id, match=match, by=side)
    return match


def _hold_key(agreement: TradeAgreement, milestone: TradeMilestone | None = None) -> str:
    return f"agreement:{agreement.id}" + (f":milestone:{milestone.position}" if milestone else "")


def match_accept(*, principal: PrincipalView, match_id: UUID) -> TradeAgreement:
    """The side that did not make the terms on the table accepts them: an agreement, with the buyer's money
    held (escrow, milestones) or paid at once (immediate). 402 when the buyer cannot cover the price."""
    with transaction.atomic(using=DB):
        match = match_get_for(principal, match_id, lock=True)
        side = _side(principal, match)
        request = TradeRequest.objects.select_for_update().get(id=match.request_id)
        _open_or_409(match)
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
        milestones = [
            TradeMilestone.objects.create(
                agreement=agreement, position=i, title=m["title"], amount=Decimal(m["amount"])
            )
            for i, m in enumerate(match.milestones)
        ]
        for milestone in milestones or [None]:
            amount = milestone.amount if milestone else agreement.price
            hold_place(
                owner_id=agreement.buyer_id, key=_hold_key(agreement, milestone), amount=amount, what="this agreement"
            )
        match.status = MatchStatus.ACCEPTED
        match.save(update_fields=["status", "updated_at"])
        request.matches.exclude(id=match.id).filter(status__in=OPEN_MATCH).update(status=MatchStatus.REJECTED)
        request.status = RequestStatus.AGREED
        request.save(update_fields=["status", "updated_at"])
        _event("agreement_made", request, principal.id, match=match, agreement=agreement, price=money_str(match.price))
        if agreement.settlement == SettlementMode.IMMEDIATE:
            _settle(agreement, None, agreement.price, actor=principal.id)
    return agreement


def _not_market(agreement: TradeAgreement) -> None:
    if agreement.origin == "market":
        raise Conflict(
            "this agreement is an order-book fill: its GPU booking settles it (release the booking to end it early)",
            code="settled_by_booking",
        )


def market_agreement_open(
    *, fill_id: UUID, buyer_id: UUID, seller_id: UUID, amount: Decimal, terms: dict
) -> TradeAgreement:
    """The agreement of one order-book fill (its escrow is the fill's hold; its booking settles it). Idempotent."""
    if (existing := TradeAgreement.objects.filter(fill_id=fill_id).first()) is not None:
        return existing
    return TradeAgreement.objects.create(
        origin="market",
        fill_id=fill_id,
        buyer_id=buyer_id,
        seller_id=seller_id,
        price=amount,
        settlement=SettlementMode.ESCROW,
        terms=terms,
        fee_bps=parameter_get("platform_fee_bps"),
    )


def market_agreement_close(*, fill_id: UUID, paid: Decimal) -> None:
    """The fill's booking ended: the agreement is settled for what the booking paid."""
    TradeAgreement.objects.filter(fill_id=fill_id, status=AgreementStatus.ACTIVE).update(
        status=AgreementStatus.SETTLED, settled_amount=paid, updated_at=timezone.now()
    )


def agreement_get_for(principal: PrincipalView, agreement_id: UUID, *, lock: bool = False) -> TradeAgreement:
    agreements = TradeAgreement.objects.select_for_update() if lock else TradeAgreement.objects
    agreement = agreements.filter(id=agreement_id).first()
    if agreement is None or (not principal.is_admin and principal.id not in (agreement.buyer_id, agreement.seller_id)):
        raise NotFound(f"no agreement {agreement_id}")
    return agreement


def _settle(agreement: TradeAgreement, milestone: TradeMilestone | None, amount: Decimal, *, actor) -> TradeSettlement:
    """Captures the hold and pays the seller amount - fee (inside the caller's trading transaction)."""
    key = f"{_hold_key(agreement, milestone)}:settlement"
    if (existing := TradeSettlement.objects.filter(key=key).first()) is not None:
        return existing
    fee = min(quantize(amount * agreement.fee_bps / 10000), amount)
    entry = hold_capture(
        key=_hold_key(agreement, milestone),
        credits=[(account_for(agreement.seller_id), amount - fee), (system_account(AccountKind.FEES), fee)],
        entry_key=key,
        kind="trade_payment",
        memo=f"agreement {agreement.id}" + (f" milestone {milestone.title}" if milestone else ""),
        reference=str(agreement.id),
    )
    settlement = TradeSettlement.objects.create(
        agreement=agreement, milestone=milestone, key=key, amount=amount, fee=fee, entry_id=entry.id
    )
    if milestone:
        milestone.settled = True
        milestone.save(update_fields=["settled", "updated_at"])
    agreement.settled_amount += amount
    done = milestone is None or not agreement.milestones.filter(settled=False).exists()
    agreement.status = AgreementStatus.SETTLED if done else AgreementStatus.ACTIVE
    agreement.save(update_fields=["settled_amount", "status", "updated_at"])
    _event("settled", agreement.request, actor, agreement=agreement, amount=money_str(amount), fee=money_str(fee))
    return settlement


def agreement_settle(
    *, principal: PrincipalView, agreement_id: UUID, milestone_id: UUID | None = None, amount: Decimal | None = None
) -> TradeSettlement:
    """The buyer releases payment: a milestone, or (escrow) up to the agreed price; the rest of the hold
    goes back to the buyer. Settling the same milestone or escrow again returns the first settlement."""
    with transaction.atomic(using=DB):
        agreement = agreement_get_for(principal, agreement_id, lock=True)
        if principal.id != agreement.buyer_id and not principal.is_admin:
            raise Forbidden("only the buyer releases payment")
        _not_market(agreement)
        if agreement.settlement == SettlementMode.MILESTONES:
            if milestone_id is None:
                raise Invalid("milestone_id: this agreement is settled milestone by milestone")
            milestone = agreement.milestones.filter(id=milestone_id).first()
            if milestone is None:
                raise NotFound(f"no milestone {milestone_id} in agreement {agreement_id}")
            if amount is not None and amount != milestone.amount:
                raise Conflict(f"milestone {milestone.title!r} is {money_str(milestone.amount)}", code="wrong_amount")
            return _settle(agreement, milestone, milestone.amount, actor=principal.id)
        if (done := TradeSettlement.objects.filter(agreement=agreement).first()) is not None:
            if amount is not None and amount != done.amount:
                raise Conflict(
                    f"agreement {agreement_id} was already settled for {money_str(done.amount)}", code="settled"
                )
            return done
        if agreement.status != AgreementStatus.ACTIVE:
            raise Conflict(f"agreement {agreement_id} is {agreement.status}", code="agreement_closed")
        amount = agreement.price if amount is None else amount
        if amount > agreement.price:
            raise Conflict(
                f"cannot settle {money_str(amount)}: the agreement is for {money_str(agreement.price)}",
                code="over_settlement",
            )
        return _settle(agreement, None, amount, actor=principal.id)


def agreement_cancel(*, principal: PrincipalView, agreement_id: UUID) -> TradeAgreement:
    """The seller (or an admin) walks away: whatever is still held goes back to the buyer."""
    with transaction.atomic(using=DB):
        agreement = agreement_get_for(principal, agreement_id, lock=True)
        if principal.id != agreement.seller_id and not principal.is_admin:
            raise Forbidden("only the seller or an admin may cancel an agreement")
        _not_market(agreement)
        if agreement.status != AgreementStatus.ACTIVE:
            raise Conflict(f"agreement {agreement_id} is {agreement.status}", code="agreement_closed")
        for milestone in list(agreement.milestones.filter(settled=False)) or [None]:
            hold_release(key=_hold_key(agreement, milestone))
        agreement.status = AgreementStatus.CANCELED
        agreement.save(update_fields=["status", "updated_at"])
        _event("agreement_canceled", agreement.request, principal.id, agreement=agreement)
    return agreement
