"""The trading service's API: the ledger (accounts, transfers, credits, its check), the trade event log, the block
explorer under /explorer, and trades (requests, matches, agreements, settlements) under /trading.

`explorer_router(v1=False)` also serves the explorer at the seed's old paths (aitbc_site/urls/trading.py)."""

from ninja import Router

from apps.trading.api.explorer import explorer_router
from apps.trading.api.ledger import router as ledger_router
from apps.trading.api.trades import events as events_router
from apps.trading.api.trades import router as trades_router

__all__ = ["explorer_router", "router"]

router = Router()
router.add_router("", ledger_router)
router.add_router("", events_router)
router.add_router("/explorer", explorer_router(v1=True))
router.add_router("/trading", trades_router)
