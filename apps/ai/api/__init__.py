"""The ai app's routers: jobs, multimodal and optimisation (the ai service), and the miner job protocol (served
by the gpu service, at the paths the seed's miners use)."""

from apps.ai.api.jobs import router as jobs_router
from apps.ai.api.miners import router as miners_router
from apps.ai.api.multimodal import router as multimodal_router
from apps.ai.api.optimization import router as optimization_router

__all__ = ["jobs_router", "miners_router", "multimodal_router", "optimization_router"]
