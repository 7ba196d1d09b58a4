"""/v1/optimization/...: parameter sweeps fanned out as jobs, predictions from the job history, the miners
and their record, health."""

from typing import Any, Literal
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from aitbc_site.api import Error
from aitbc_site.inputs import Amount
from apps.accounts.auth import any_principal, clients
from apps.accounts.idempotency import idempotent
from apps.ai.contracts import Constraints
from apps.ai.models import TuneStudy
from apps.ai.selectors.prediction import optimization_agents, optimization_health, runtime_predict
from apps.ai.services.tuning import tune_get_for, tune_start, tune_view

router = Router(tags=["optimization"])


class TuneIn(Schema):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, description="what every trial shares")
    parameters: dict[str, list[Any]] = Field(description="name -> values; one job per combination (at most 32)")
    metric: str = Field("duration_ms", max_length=64, description="duration_ms, gpu_seconds, price or a result key")
    goal: Literal["min", "max"] = "min"
    max_price_per_job: Amount
    constraints: Constraints = Field(default_factory=Constraints)


class TrialOut(Schema):
    number: int
    params: dict[str, Any]
    job_id: UUID
    state: str
    value: float | None
    error: str | None


class BestOut(Schema):
    number: int
    params: dict[str, Any]
    job_id: UUID
    value: float


class TuneOut(Schema):
    tune_id: UUID
    type: str
    status: str
    metric: str
    goal: str
    trials: list[TrialOut]
    finished: int
    best: BestOut | None
    created_at: str
    finished_at: str | None


class TuneList(Schema):
    items: list[TuneOut]
    count: int


class PredictIn(Schema):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)
    miner_id: UUID | None = Field(None, description="predict for this online miner (its history and price)")


class PredictOut(Schema):
    type: str
    sample_size: int
    method: str
    predicted_gpu_seconds: float
    predicted_duration_ms: float
    range_gpu_seconds: list[float]
    unit_price: str
    unit_price_basis: str
    predicted_price: str
    price_range: list[str]


class AgentOut(Schema):
    miner_id: UUID
    region: str
    unit_price: str
    runners: list[str]
    jobs_completed: int
    jobs_failed: int
    success_rate: float | None
    mean_gpu_seconds: float | None


class AgentList(Schema):
    items: list[AgentOut]
    count: int


class HealthOut(Schema):
    service: str
    component: str
    status: str
    checks: dict[str, str]


@router.post("/tune", auth=clients, response={201: TuneOut, 402: Error, 404: Error, 409: Error, 422: Error})
@idempotent
def optimization_tune(request, body: TuneIn):
    """One job per combination of the parameters (all submitted, or none when the client cannot cover them);
    GET it until status is COMPLETED: `best` is the completed trial with the best metric."""
    study = tune_start(
        client=request.auth,
        job_type=body.type,
        base_payload=body.payload,
        parameters=body.parameters,
        metric=body.metric,
        goal=body.goal,
        max_price_per_job=body.max_price_per_job,
        constraints=body.constraints.model_dump(exclude_none=True),
    )
    return Status(201, tune_view(study))


@router.get("/tune", auth=clients, response=TuneList)
def optimization_tunes(request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):
    mine = TuneStudy.objects.all() if request.auth.is_admin else TuneStudy.objects.filter(client_id=request.auth.id)
    page = [tune_get_for(request.auth, s.id) for s in mine.order_by("-created_at")[offset : offset + limit]]
    return {"items": [tune_view(s) for s in page], "count": mine.count()}


@router.get("/tune/{tune_id}", auth=clients, response={200: TuneOut, 404: Error})
def optimization_tune_get(request, tune_id: UUID):
    return tune_view(tune_get_for(request.auth, tune_id))


@router.post("/predict", auth=any_principal, response={200: PredictOut, 404: Error, 422: Error})
def optimization_predict(request, body: PredictIn):
    """Runtime and cost of a job like this one, fitted on the recent completed jobs of its type (sample_size
    says how many); 404 when there is no history yet."""
    return runtime_predict(job_type=body.type, payload=body.payload, miner_id=body.miner_id)


@router.get("/agents", auth=any_principal, response=AgentList)
def optimization_agents_view(
    request,
    type: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """Online miners (with the runner for `type`, if given) and their record: completed, failed, mean GPU-seconds."""
    items = optimization_agents(type)
    return {"items": items[offset : offset + limit], "count": len(items)}


@router.get("/health", response={200: HealthOut, 503: HealthOut})
def optimization_health_view(request):
    report = optimization_health()
    return Status(503 if report["status"] == "error" else 200, report)
