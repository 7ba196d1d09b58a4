from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from aitbc_site.api import Error
from aitbc_site.errors import NotFound
from apps.accounts.auth import clients
from apps.accounts.idempotency import idempotent
from apps.hermes.api.schemas import LocalIn, StepIn, WorkflowList, WorkflowOut
from apps.hermes.models import WorkflowKind, WorkflowStatus
from apps.hermes.selectors import workflow_get_for, workflow_list_for, workflow_view
from apps.hermes.services.composite import collaboration_create, hybrid_create
from apps.hermes.services.offload import LocalSpec
from apps.hermes.services.workflows import StepSpec, workflow_cancel, workflow_create

router = Router(tags=["workflows"])
ERRORS = {402: Error, 404: Error, 409: Error, 422: Error}


class WorkflowIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field("", max_length=100)
    steps: list[StepIn] = Field(min_length=1, max_length=100)


def _specs(steps: list[StepIn]) -> list[StepSpec]:
    return [
        StepSpec(
            id=s.id,
            type=s.type,
            payload=s.payload,
            constraints=s.constraints.model_dump(exclude_none=True),
            max_price=s.max_price,
            ttl_seconds=s.ttl_seconds,
            depends_on=list(s.depends_on),
        )
        for s in steps
    ]


@router.post("/workflows", auth=clients, response={201: WorkflowOut, **ERRORS})
@idempotent
def workflow_create_view(request, body: WorkflowIn):
    """A DAG of AI jobs: a step's job is submitted (and its max_price held) once every step it depends on
    completed; {"$from": "STEP"} in a payload is replaced by that dependency's result. A failed step fails its
    dependants, which never run and hold nothing. 422 for cycles and unknown dependencies, 402 when the
    steps' max_price add up to more than your available balance."""
    workflow = workflow_create(client=request.auth, steps=_specs(body.steps), name=body.name)
    return Status(201, workflow_view(workflow))


@router.get("/workflows", auth=clients, response=WorkflowList)
def workflow_list_view(
    request,
    status: WorkflowStatus | None = None,
    kind: WorkflowKind | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    count, items = workflow_list_for(request.auth, status=status, kind=kind, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.get("/workflows/{workflow_id}", auth=clients, response={200: WorkflowOut, 404: Error})
def workflow_get_view(request, workflow_id: UUID):
    """The workflow's status and each step's job and state."""
    return workflow_view(workflow_get_for(request.auth, workflow_id))


@router.post("/workflows/{workflow_id}/cancel", auth=clients, response={200: WorkflowOut, 404: Error, 409: Error})
def workflow_cancel_view(request, workflow_id: UUID):
    """Cancels the running steps' jobs (escrow released) and every step not yet started."""
    return workflow_view(workflow_cancel(workflow=workflow_get_for(request.auth, workflow_id)))


class HybridIn(WorkflowIn):
    local: LocalIn
    prefer: str = Field("time", pattern="^(time|cost)$")


@router.post("/hybrid/executions", auth=clients, response={201: WorkflowOut, **ERRORS})
@idempotent
def hybrid_create_view(request, body: HybridIn):
    """A workflow whose steps the offload decision places on your own miner (local.region / local.gpu_model)
    or on the marketplace; the placements and reasons are the workflow's plan."""
    local = body.local.model_dump()
    region = local.pop("region")
    workflow = hybrid_create(
        client=request.auth,
        steps=_specs(body.steps),
        local=LocalSpec(**local),
        region=region,
        prefer=body.prefer,
        name=body.name,
    )
    return Status(201, workflow_view(workflow))


@router.get("/hybrid/executions/{workflow_id}", auth=clients, response={200: WorkflowOut, 404: Error})
def hybrid_get_view(request, workflow_id: UUID):
    workflow = workflow_get_for(request.auth, workflow_id)
    return workflow_view(_of_kind(workflow, WorkflowKind.HYBRID))


class CollaborationIn(WorkflowIn):
    region: str = Field("", max_length=64, description="route every step to agents in this region")


@router.post("/collaborations", auth=clients, response={201: WorkflowOut, **ERRORS})
@idempotent
def collaboration_create_view(request, body: CollaborationIn):
    """Agents collaborating on a task: each step's type is a skill, served by the agent skill routing picks
    (its region and GPU model become the step's constraints); the routing is the workflow's plan."""
    workflow = collaboration_create(client=request.auth, steps=_specs(body.steps), region=body.region, name=body.name)
    return Status(201, workflow_view(workflow))


@router.get("/collaborations/{workflow_id}", auth=clients, response={200: WorkflowOut, 404: Error})
def collaboration_get_view(request, workflow_id: UUID):
    workflow = workflow_get_for(request.auth, workflow_id)
    return workflow_view(_of_kind(workflow, WorkflowKind.COLLABORATION))


def _of_kind(workflow, kind):
    if workflow.kind != kind:
        raise NotFound(f"no {kind} {workflow.id}")
    return workflow
