"""The trading domain's models: the ledger (money), the block log, and trades."""

from apps.trading.models.blocks import Block, BlockItem, Receipt
from apps.trading.models.ledger import Account, AccountKind, Entry, Hold, HoldStatus, Posting
from apps.trading.models.trades import (
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

__all__ = [
    "Account",
    "AccountKind",
    "AgreementStatus",
    "Block",
    "BlockItem",
    "Entry",
    "Hold",
    "HoldStatus",
    "MatchStatus",
    "Posting",
    "Receipt",
    "RequestStatus",
    "SettlementMode",
    "TradeAgreement",
    "TradeEvent",
    "TradeMatch",
    "TradeMilestone",
    "TradeRequest",
    "TradeSettlement",
]
