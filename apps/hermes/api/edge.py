from typing import Literal
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from aitbc_site.api import Error
from apps.accounts.auth import clients, miners
from apps.accounts.idempotency import idempotent
from apps.hermes.api.schemas import SKILL
from apps.hermes.selectors import deployment_get_for, deployment_list_for, deployment_view
from apps.hermes.services.edge import (
    deployment_coordinate,
    deployment_scale,
    deployment_stop,
    edge_deployment_create,
    replica_report,
    replicas_for_miner,
)

router = Router(tags=["edge"])

Category = Literal["edge", "consumer", "datacenter"]


def _default_categories() -> list[Category]:
    return ["edge", "consumer"]


class EdgeConstraints(Schema):
    model_config = ConfigDict(extra="forbid")
    categories: list[Category] = Field(
        default_factory=_default_categories, min_length=1, description="edge GPU profile categories"
    )
    region: str | None = Field(default=None, max_length=64)
    gpu_model: str | None = Field(default=None, max_length=100)
    min_memory_gb: float | None = Field(default=None, ge=0, le=4096)
    max_tdp_w: int | None = Field(default=None, ge=1, le=100_000)


class DeploymentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    runner: str = Field(pattern=SKILL, description="a job type: built in or an aitbc.runners plugin")
    constraints: EdgeConstraints = Field(default_factory=EdgeConstraints)
    replicas: int = Field(1, ge=1, le=100)


class ReplicaOut(Schema):
    replica_id: UUID
    miner_id: UUID
    gpu_model: str
    profile: str
    state: str
    reason: str | None
    runner_version: str | None
    reported_at: str | None
    choice: dict


class DeploymentOut(Schema):
    deployment_id: UUID
    runner: str
    constraints: dict
    replicas: int
    status: str
    status_reason: str | None
    created_at: str
    replica_states: list[ReplicaOut]


class DeploymentList(Schema):
    items: list[DeploymentOut]
    count: int


@router.post("/edge/deployments", auth=clients, response={201: DeploymentOut, 422: Error})
@idempotent
def deployment_create_view(request, body: DeploymentIn):
    """Places a runner on `replicas` edge miners, chosen by their GPUs' edge profiles and telemetry; each chosen
    miner reports the replica installed or failed. 422 (nothing recorded) when too few edge miners fit."""
    deployment = edge_deployment_create(
        owner=request.auth,
        runner=body.runner,
        constraints=body.constraints.model_dump(exclude_none=True),
        replicas=body.replicas,
    )
    return Status(201, deployment_view(deployment))


@router.get("/edge/deployments", auth=clients, response=DeploymentList)
def deployment_list_view(request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):
    count, items = deployment_list_for(request.auth, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.get("/edge/deployments/{deployment_id}", auth=clients, response={200: DeploymentOut, 404: Error})
def deployment_get_view(request, deployment_id: UUID):
    """The deployment and each replica's state as its miner reported it."""
    return deployment_view(deployment_get_for(request.auth, deployment_id))


class ScaleIn(Schema):
    replicas: int = Field(ge=1, le=100)


@router.post(
    "/edge/deployments/{deployment_id}/scale", auth=clients, response={200: DeploymentOut, 404: Error, 409: Error}
)
def deployment_scale_view(request, deployment_id: UUID, body: ScaleIn):
    """More replicas are placed on other edge miners; fewer retire the pending and newest first."""
    deployment = deployment_get_for(request.auth, deployment_id)
    deployment_scale(deployment=deployment, replicas=body.replicas)
    return deployment_view(deployment_get_for(request.auth, deployment_id))


@router.post("/edge/deployments/{deployment_id}/coordinate", auth=clients, response={200: dict, 404: Error})
def deployment_coordinate_view(request, deployment_id: UUID):
    """Edge coordination now (it also runs periodically): replicas on offline miners are marked LOST and every
    lost, failed or missing replica is placed on another edge miner. Answers what changed and the deployment."""
    deployment = deployment_get_for(request.auth, deployment_id)
    changed = deployment_coordinate(deployment.id)
    return {"changed": changed, "deployment": deployment_view(deployment_get_for(request.auth, deployment_id))}


@router.delete("/edge/deployments/{deployment_id}", auth=clients, response={204: None, 404: Error})
def deployment_stop_view(request, deployment_id: UUID):
    deployment_stop(deployment=deployment_get_for(request.auth, deployment_id))
    return Status(204, None)


class MinerReplica(Schema):
    replica_id: UUID
    deployment_id: UUID
    runner: str
    state: str


class MinerReplicaList(Schema):
    items: list[MinerReplica]
    count: int


@router.get("/edge/replicas", auth=miners, response=MinerReplicaList)
def replicas_for_miner_view(
    request,
    state: Literal["PENDING", "INSTALLED", "FAILED", "LOST", "RETIRED"] | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """For a miner: the edge replicas placed on it, oldest first (PENDING ones are waiting for it to install and
    report)."""
    count, rows = replicas_for_miner(request.auth, state=state, limit=limit, offset=offset)
    items = [{"replica_id": r.id, "deployment_id": r.deployment_id, "runner": r.deployment.runner, "state": r.state}
             for r in rows]  # fmt: skip
    return {"items": items, "count": count}


class ReportIn(Schema):
    model_config = ConfigDict(extra="forbid")
    state: Literal["INSTALLED", "FAILED"]
    reason: str = Field("", max_length=500)
    runner_version: str = Field("", max_length=200)


@router.post(
    "/edge/replicas/{replica_id}/report",
    auth=miners,
    response={200: ReplicaOut, 404: Error, 409: Error, 422: Error},
)
def replica_report_view(request, replica_id: UUID, body: ReportIn):
    """A miner reports a replica placed on it installed or failed (with the reason)."""
    replica = replica_report(
        miner=request.auth,
        replica_id=replica_id,
        state=body.state,
        reason=body.reason,
        runner_version=body.runner_version,
    )
    return {
        "replica_id": replica.id,
        "miner_id": replica.miner_id,
        "gpu_model": replica.gpu_model,
        "profile": replica.profile,
        "state": replica.state,
        "reason": replica.reason or None,
        "runner_version": replica.runner_version or None,
        "reported_at": replica.reported_at.isoformat().replace("+00:00", "Z") if replica.reported_at else None,
        "choice": replica.choice,
    }
