from uuid import UUID

from celery import shared_task

from apps.hermes.services.advance import workflow_advance, workflows_advance
from apps.hermes.services.edge import deployments_coordinate


@shared_task(name="hermes.advance_workflow", soft_time_limit=50, time_limit=60)
def advance_workflow(workflow_id: str) -> str | None:
    """One workflow now (after it is created): submits the steps that are ready."""
    return workflow_advance(UUID(workflow_id))


@shared_task(name="hermes.advance_workflows", soft_time_limit=50, time_limit=60)
def advance_workflows() -> dict:
    """Every running workflow: steps follow their jobs, ready steps are submitted, failures propagate."""
    return workflows_advance()


@shared_task(name="hermes.coordinate_edge", soft_time_limit=50, time_limit=60)
def coordinate_edge() -> dict:
    """Edge deployments keep their replica count: replicas on miners that went away or failed are replaced."""
    return deployments_coordinate()
