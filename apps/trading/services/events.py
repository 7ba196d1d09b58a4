"""The trade domain's event log: one row per thing that happened to a request, its matches or its agreement."""

from uuid import UUID

from apps.trading.models import TradeAgreement, TradeEvent, TradeMatch, TradeRequest


def trade_event_record(
    kind: str,
    request: TradeRequest,
    actor: UUID | None,
    *,
    match: TradeMatch | None = None,
    agreement: TradeAgreement | None = None,
    **data,
) -> None:
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
