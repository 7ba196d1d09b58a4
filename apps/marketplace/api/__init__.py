"""The marketplace service's API: the GPU-hour market (offers, bids, the order book, analytics) and
`/v1/transactions`, which the gpu service serves too (each service builds its own `transactions_router()`)."""

from apps.marketplace.api.market import router
from apps.marketplace.api.transactions import transactions_router

__all__ = ["router", "transactions_router"]
