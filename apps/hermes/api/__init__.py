"""The hermes service's API: agents and skill routing, offloading, workflows (plain, hybrid, collaborations),
edge deployments."""

from ninja import Router

from apps.hermes.api.agents import router as agents_router
from apps.hermes.api.edge import router as edge_router
from apps.hermes.api.workflows import router as workflows_router

router = Router()
router.add_router("", agents_router)
router.add_router("", workflows_router)
router.add_router("", edge_router)
