"""The gpu service's own routers: miners and their GPUs, and the GPU-hour market (bookings, reviews, edge)."""

from apps.gpu.api.market import market_router
from apps.gpu.api.miners import gpu_status
from apps.gpu.api.miners import router as miners_router

__all__ = ["gpu_status", "market_router", "miners_router"]
