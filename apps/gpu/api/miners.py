from typing import Annotated, Literal
from uuid import UUID

from django.http import HttpResponse, JsonResponse
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel, ConfigDict

from aitbc_site.api import Error
from aitbc_site.errors import Forbidden
from aitbc_site.inputs import AmountOrZero, Count
from aitbc_site.money import money_str
from aitbc_site.parameters import parameter_get
from aitbc_site.queues import gpu_queue
from apps.accounts.auth import any_principal, miners
from apps.gpu.selectors.miners import gpu_status_counts, gpu_view, miner_get_for, miner_is_online, miner_view
from apps.gpu.services.broker import miner_broker_grant
from apps.gpu.services.miners import (
    miner_capabilities_set,
    miner_deregister,
    miner_heartbeat,
    miner_register,
    miner_registered,
)
from apps.trading import facade as trading

router = Router(tags=["miners"])
POLL_INTERVAL_S = 0.2
MAX_MEMORY_MB = 2**24  # 16 TiB: far beyond any GPU, and within the registry's integer column
MAX_GPU_SECONDS = 1e9  # a job's GPU-seconds (billing caps them at its lease anyway): 31 years of one GPU


class GpuSpec(Schema):
    name: str = Field(max_length=100)
    uuid: str = Field(max_length=100)
    memory_mb: int = Field(ge=0, le=MAX_MEMORY_MB)
    compute_capability: str = Field(default="", max_length=16)


class PluginReport(Schema):
    """A runner plugin installed on the miner (aitbc_miner.plugins): checked against the plugin registry."""

    name: str = Field(max_length=64)
    version: str = Field(max_length=64)
    entry_point: str = Field(max_length=200)
    distribution: str = Field(default="", max_length=200)
    sha256: str = Field(default="", max_length=64)
    error: str = Field(default="", max_length=500)


# A pydantic model, not ninja's Schema: a Schema reads the attributes of whatever it is given, so a list or a number
# in its place became empty capabilities; this one takes an object only (and drops keys it does not name).
class Capabilities(BaseModel):
    """What the miner can run: its GPUs, CUDA and driver versions, models, runners and runner plugins."""

    gpus: list[GpuSpec] = Field(default_factory=list, max_length=64)
    cuda_version: str = Field(default="", max_length=16)
    driver_version: str = Field(default="", max_length=32)
    models: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=200)
    runners: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=200)
    plugins: list[PluginReport] = Field(default_factory=list, max_length=200)


class RegisterIn(Schema):
    model_config = ConfigDict(extra="forbid")
    region: str = Field(default="", max_length=64)
    concurrency: int = Field(default=1, ge=1, le=256)
    capabilities: Capabilities = Field(default_factory=Capabilities)
    unit_price: AmountOrZero = Field(description="AIT per GPU-second")
    name: str = Field(default="", max_length=100)
    mode: Literal["poll", "celery"] = "poll"


class PluginVerdict(Schema):
    name: str
    version: str
    status: str
    detail: str


class RegisterOut(Schema):
    miner_id: UUID
    status: str
    heartbeat_interval_s: int
    lease_timeout_s: int
    queue: str
    broker_url: str | None = Field(
        None,
        description="celery mode on Redis: this miner's own broker user, scoped to its queue; shown once, "
        "replaced at every registration",
    )
    plugins: list[PluginVerdict] = Field(default_factory=list, description="the registry's verdict on each")


class GpuReading(Schema):
    """One GPU's telemetry, within what a GPU can physically report."""

    uuid: str = Field(max_length=100)
    utilization_gpu: float | None = Field(default=None, ge=0, le=100, description="percent")
    memory_used_mb: float | None = Field(default=None, ge=0, le=MAX_MEMORY_MB)
    temperature_c: float | None = Field(default=None, ge=-273.15, le=1000)
    power_w: float | None = Field(default=None, ge=0, le=100_000)


class HeartbeatIn(Schema):
    inflight: Count = 0
    gpus: list[GpuReading] = Field(
        default_factory=list, max_length=64, description="at most one reading per GPU, and no more than the miner has"
    )
    job_ids: list[UUID] | None = Field(
        None, max_length=1024, description="renew only these jobs' leases (default: every held job)"
    )


class HeartbeatOut(Schema):
    miner_id: UUID
    status: str
    renewed_leases: int
    heartbeat_interval_s: int


class CapabilitiesIn(Schema):
    capabilities: Capabilities


@router.post("/miners/register", auth=miners, response={200: RegisterOut, 409: Error, 422: Error, 503: Error})
def miners_register(request, body: RegisterIn):
    """Register this key's miner (again: update it). Heartbeat every heartbeat_interval_s. A celery-mode miner
    gets the URL of its own broker user (the old one stops working). 409 gpu_taken, and nothing stored, when
    another miner has registered one of its GPUs (a GPU's NVML UUID belongs to one miner)."""
    miner = miner_register(
        principal=request.auth,
        region=body.region,
        concurrency=body.concurrency,
        capabilities=body.capabilities.model_dump(),
        unit_price=body.unit_price,
        name=body.name,
        mode=body.mode,
    )
    broker_url = miner_broker_grant(miner=miner)
    return {
        "miner_id": miner.id,
        "status": miner.status,
        "heartbeat_interval_s": parameter_get("heartbeat_interval_s"),
        "lease_timeout_s": parameter_get("lease_timeout_s"),
        "queue": gpu_queue(str(miner.id)),
        "broker_url": broker_url,
        "plugins": miner.capabilities.get("plugins") or [],
    }


@router.post("/miners/heartbeat", auth=miners, response={200: HeartbeatOut, 404: Error})
def miners_heartbeat(request, body: HeartbeatIn):
    """Liveness and GPU telemetry; renews the leases of the jobs this miner holds."""
    miner = miner_registered(request.auth)
    readings = [r.model_dump() for r in body.gpus]
    renewed = miner_heartbeat(miner=miner, inflight=body.inflight, readings=readings, job_ids=body.job_ids)
    interval = parameter_get("heartbeat_interval_s")
    return {"miner_id": miner.id, "status": miner.status, "renewed_leases": renewed, "heartbeat_interval_s": interval}


@router.get("/miners/me", auth=miners, response={200: dict, 404: Error})
def miners_me(request):
    """This key's miner."""
    return miner_view(miner_registered(request.auth))


@router.get("/miners/{miner_id}", auth=any_principal, response={200: dict, 404: Error})
def miners_get(request, miner_id: UUID):
    return miner_view(miner_get_for(request.auth, miner_id))


@router.get("/miners/{miner_id}/gpus", auth=any_principal, response={200: dict, 404: Error})
def miners_gpus(
    request, miner_id: UUID, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)
):
    """The miner's GPUs in the registry (those it no longer reports are OFFLINE), by UUID."""
    gpus = miner_get_for(request.auth, miner_id).gpus.all()
    return {"items": [gpu_view(g) for g in gpus[offset : offset + limit]], "count": gpus.count()}


@router.api_operation(
    ["GET", "POST"], "/miners/{miner_id}/earnings", auth=any_principal, response={200: dict, 404: Error}
)
def miners_earnings(request, miner_id: UUID):
    """What this miner has been paid, from the ledger."""
    miner = miner_get_for(request.auth, miner_id)
    earned = trading.earnings_of(miner.principal_id)
    return {
        "miner_id": miner.id,
        "total_earned": money_str(earned["total_earned"]),
        "jobs_completed": earned["jobs_paid"],
        "currency": "AIT",
    }


@router.put("/miners/{miner_id}/capabilities", auth=miners, response={200: dict, 404: Error, 403: Error, 409: Error})
def miners_capabilities(request, miner_id: UUID, body: CapabilitiesIn):
    """Replace the miner's capabilities; 409 gpu_taken, and nothing changed, for a GPU another miner registered."""
    miner = miner_get_for(request.auth, miner_id)
    return miner_view(miner_capabilities_set(miner=miner, capabilities=body.capabilities.model_dump()))


@router.delete("/miners/{miner_id}", auth=any_principal, response={204: None, 404: Error, 403: Error})
def miners_deregister(request, miner_id: UUID):
    """Deregister: the miner goes OFFLINE and its running jobs go back to the queue."""
    if request.auth.role not in ("miner", "admin"):
        raise Forbidden("only the miner itself or an admin may deregister a miner")
    miner_deregister(miner=miner_get_for(request.auth, miner_id))
    return HttpResponse(status=204)


def gpu_status(request):
    """GET /gpu/status: GPU counts by model and status (no key needed: aggregate numbers only)."""
    return JsonResponse(gpu_status_counts())


__all__ = ["router", "gpu_status", "miner_is_online"]
