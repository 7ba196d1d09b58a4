"""The governance service's routers: proposals, votes, delegations and parameters; reports; /v1/transactions."""

from apps.governance.api.proposals import router as proposals_router
from apps.governance.api.reports import router as reports_router
from apps.governance.api.transactions import transactions_router

__all__ = ["proposals_router", "reports_router", "transactions_router"]
