"""Trade agreements (made when a match is accepted, services/trades.py): settling, canceling; and the agreements
of order-book fills.

Money moves only through the ledger: an agreement holds the buyer's money (all of it, or per milestone), a
settlement captures a hold and pays the seller minus the platform fee. Every payment is keyed by agreement and
milestone, so a replay moves nothing.
"""

from decimal import Decimal
from typing import cast
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from aitbc_site.errors import Conflict, Forbidden, Invalid, NotFound
from aitbc_site.money import money_str
from aitbc_site.parameters import parameter_get
from apps.accounts.facade import PrincipalView
from apps.trading.fees import fee_of
from apps.trading.models import (
    AccountKind,
    AgreementStatus,
    SettlementMode,
    TradeAgreement,
    TradeMilestone,
    TradeRequest,
    TradeSettlement,
)
from apps.trading.selectors.trades import agreement_get_for
from apps.trading.services.events import trade_event_record
from apps.trading.services.ledger import DB, account_for, hold_capture, hold_release, system_account


def agreement_hold_key(agreement: TradeAgreement, milestone: TradeMilestone | None = None) -> str:
    return f"agreement:{agreement.id}" + (f":milestone:{milestone.position}" if milestone else "")


def _request_of(agreement: TradeAgreement) -> TradeRequest:
    """The request a negotiated agreement was made on (match_accept always sets it); only an order-book fill's
    agreement has none, and _not_market turns those away before anything here records an event."""
    return cast(TradeRequest, agreement.request)


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


def agreement_pay(
    agreement: TradeAgreement, milestone: TradeMilestone | None, amount: Decimal, *, actor
) -> TradeSettlement:
    """Captures the hold and pays the seller amount - fee (inside the caller's trading transaction)."""
    key = f"{agreement_hold_key(agreement, milestone)}:settlement"
    if (existing := TradeSettlement.objects.filter(key=key).first()) is not None:
        return existing
    fee = fee_of(amount, agreement.fee_bps)
    entry = hold_capture(
        key=agreement_hold_key(agreement, milestone),
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
    fee_str = money_str(fee)
    trade_event_record(
        "settled", _request_of(agreement), actor, agreement=agreement, amount=money_str(amount), fee=fee_str
    )
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
            return agreement_pay(agreement, milestone, milestone.amount, actor=principal.id)
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
        return agreement_pay(agreement, None, amount, actor=principal.id)


def agreement_cancel(*, principal: PrincipalView, agreement_id: UUID) -> TradeAgreement:
    """The seller (or an admin) walks away: whatever is still held goes back to the buyer."""
    with transaction.atomic(using=DB):
        agreement = agreement_get_for(principal, agreement_id, lock=True)
        if principal.id != agreement.seller_id and not principal.is_admin:
            raise Forbidden("only the seller or an admin may cancel an agreement")
        _not_market(agreement)
        if agreement.status != AgreementStatus.ACTIVE:
            raise Conflict(f"agreement {agreement_id} is {agreement.status}", code="agreement_closed")
        unsettled: list[TradeMilestone | None] = list(agreement.milestones.filter(settled=False))
        for milestone in unsettled or [None]:
            hold_release(key=agreement_hold_key(agreement, milestone))
        agreement.status = AgreementStatus.CANCELED
        agreement.save(update_fields=["status", "updated_at"])
        trade_event_record("agreement_canceled", _request_of(agreement), principal.id, agreement=agreement)
    return agreement
