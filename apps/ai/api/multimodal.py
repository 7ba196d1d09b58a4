"""/v1/multimodal/...: multimodal jobs, benchmarks that steer their routing, the miners that run them, health."""

from typing import Literal
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, model_validator

from aitbc_site.api import Error
from aitbc_site.inputs import Amount
from apps.accounts.auth import any_principal, clients
from apps.accounts.idempotency import idempotency_key, idempotent
from apps.ai.api.jobs import JobOut
from apps.ai.contracts import Constraints
from apps.ai.models import Benchmark
from apps.ai.selectors.jobs import job_view
from apps.ai.selectors.multimodal import TYPE, capable_miners, multimodal_health, multimodal_submit
from apps.ai.services.benchmarks import benchmark_get_for, benchmark_payload, benchmark_start, benchmark_view

router = Router(tags=["multimodal"])


class InputItem(Schema):
    model_config = ConfigDict(extra="forbid")
    type: Literal["text", "image"]
    text: str | None = Field(None, max_length=50_000)
    data: str | None = Field(None, max_length=60_000, description="base64 PNG, JPEG or GIF")

    @model_validator(mode="after")
    def one_kind(self):
        if (self.type == "text") != (self.text is not None) or (self.type == "image") != (self.data is not None):
            raise ValueError("a text input has `text`, an image input has `data` (base64), nothing else")
        if "\x00" in (self.text or ""):
            raise ValueError("text may not contain NUL characters")
        return self


class ProcessIn(Schema):
    model_config = ConfigDict(extra="forbid")
    inputs: list[InputItem] = Field(min_length=1, max_length=16)
    max_price: Amount
    constraints: Constraints = Field(default_factory=Constraints)
    ttl_seconds: int = Field(900, ge=60, le=86400)


class BenchmarkIn(Schema):
    model_config = ConfigDict(extra="forbid")
    miner_ids: list[UUID] = Field(min_length=1, max_length=16, description="online miners with the multimodal runner")
    image_size: int = Field(256, ge=16, le=1024, description="the generated PNG is image_size x image_size")
    repeat: int = Field(3, ge=1, le=50)
    text: str | None = Field(None, max_length=10_000)
    max_price_per_job: Amount


class BenchmarkRunOut(Schema):
    miner_id: UUID
    job_id: UUID
    state: str
    seconds: float | None


class RankOut(Schema):
    rank: int
    miner_id: UUID
    seconds: float


class BenchmarkOut(Schema):
    benchmark_id: UUID
    type: str
    status: str
    created_at: str
    finished_at: str | None
    runs: list[BenchmarkRunOut]
    ranking: list[RankOut]


class BenchmarkList(Schema):
    items: list[BenchmarkOut]
    count: int


class AgentOut(Schema):
    miner_id: UUID
    region: str
    mode: str
    concurrency: int
    unit_price: str
    gpus: list[str]
    benchmark_seconds: float | None
    cost_per_benchmark_run: str | None
    jobs_completed: int
    jobs_failed: int


class AgentList(Schema):
    items: list[AgentOut]
    count: int


class HealthOut(Schema):
    service: str
    component: str
    status: str
    checks: dict[str, str]
    miners_online: int


@router.post("/process", auth=clients, response={201: JobOut, 402: Error, 409: Error, 413: Error, 422: Error})
def multimodal_process(request, body: ProcessIn):
    """A job over text and images, run on a miner with the multimodal runner; read it at /v1/jobs/{job_id}/result."""
    job = multimodal_submit(
        client=request.auth,
        inputs=[item.model_dump(exclude_none=True) for item in body.inputs],
        max_price=body.max_price,
        constraints=body.constraints.model_dump(exclude_none=True),
        ttl_seconds=body.ttl_seconds,
        key=idempotency_key(request),
    )
    return Status(201, job_view(job, explain=True))


@router.post("/benchmark", auth=clients, response={201: BenchmarkOut, 402: Error, 409: Error, 422: Error})
@idempotent
def multimodal_benchmark(request, body: BenchmarkIn):
    """The same generated image-and-text workload as one job on each chosen miner (paid like any job). The
    seconds each miner measures are kept and steer dispatch of multimodal jobs: unit price x seconds."""
    payload = benchmark_payload(image_size=body.image_size, repeat=body.repeat, text=body.text)
    benchmark = benchmark_start(
        client=request.auth,
        job_type=TYPE,
        miner_ids=body.miner_ids,
        payload=payload,
        max_price_per_job=body.max_price_per_job,
    )
    return Status(201, benchmark_view(benchmark))


@router.get("/benchmark", auth=clients, response=BenchmarkList)
def multimodal_benchmarks(request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):
    """The caller's benchmarks, newest first (an admin sees all)."""
    mine = Benchmark.objects.all() if request.auth.is_admin else Benchmark.objects.filter(client_id=request.auth.id)
    page = [benchmark_get_for(request.auth, b.id) for b in mine.order_by("-created_at")[offset : offset + limit]]
    return {"items": [benchmark_view(b) for b in page], "count": mine.count()}


@router.get("/benchmark/{benchmark_id}", auth=clients, response={200: BenchmarkOut, 404: Error})
def multimodal_benchmark_get(request, benchmark_id: UUID):
    return benchmark_view(benchmark_get_for(request.auth, benchmark_id))


@router.get("/agents", auth=any_principal, response=AgentList)
def multimodal_agents(request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):
    """Online miners that run multimodal jobs, in the order dispatch prefers them, with benchmark and record."""
    items = capable_miners(TYPE)
    return {"items": items[offset : offset + limit], "count": len(items)}


def _health(deep: bool):
    report = multimodal_health(deep=deep)
    return Status(503 if report["status"] == "error" else 200, report)


@router.get("/health", response={200: HealthOut, 503: HealthOut})
def multimodal_health_view(request):
    """ok, degraded (no online miner has the multimodal runner: jobs wait) or error (503)."""
    return _health(deep=False)


@router.get("/health/deep", response={200: HealthOut, 503: HealthOut})
def multimodal_health_deep(request):
    """The shallow checks, plus the multimodal runner run here on a generated PNG, and recent job outcomes."""
    return _health(deep=True)
