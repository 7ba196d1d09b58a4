from typing import Any
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from aitbc_site.api import Error
from aitbc_site.errors import ApiError, Conflict
from aitbc_site.inputs import Amount, Count
from apps.accounts.auth import admins, clients
from apps.accounts.idempotency import idempotency_key
from apps.ai.contracts import Constraints
from apps.ai.models import JobState
from apps.ai.selectors.jobs import job_get_for, job_list_for, job_view
from apps.ai.services.lifecycle import job_cancel, job_requeue
from apps.ai.services.submit import JobRequest, job_submit
from apps.trading import facade as trading

router = Router(tags=["jobs"])


class JobIn(Schema):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)
    constraints: Constraints = Field(default_factory=Constraints)
    max_price: Amount = Field(description="AIT held in escrow; the cap")
    ttl_seconds: Count = Field(900, description="from 60 to 86400 by default (platform parameters)")
    priority: int = Field(0, ge=0, le=9)


class JobOut(Schema):
    job_id: UUID
    type: str
    state: str
    assigned_miner_id: UUID | None
    attempts: int
    requested_at: str
    started_at: str | None
    finished_at: str | None
    expires_at: str
    max_price: str
    price: str | None
    fee: str | None
    units: str | None = Field(description="GPU-seconds billed (the same as billed_units)")
    reported_units: str | None = Field(description="GPU-seconds the miner reported")
    billed_units: str | None = Field(
        description="GPU-seconds billed: the reported ones, at most the run's lease time (claim to result) x its GPUs"
    )
    unit_price: str | None = Field(description="AIT per GPU-second, fixed when the job was assigned")
    quoted_unit_price: str | None = Field(description="AIT per GPU-second a routed agent advertised, if any")
    receipt_id: UUID | None
    constraints: dict
    error: dict | None
    waiting_reason: str | None


class JobList(Schema):
    items: list[JobOut]
    count: int


class JobResult(Schema):
    job_id: UUID
    state: str
    result: Any


@router.post("/jobs", auth=clients, response={201: JobOut, 402: Error, 409: Error, 413: Error, 422: Error})
def job_create(request, body: JobIn):
    """Submit a job; its max_price is held in escrow until it ends (402 when the client cannot cover it)."""
    job_request = JobRequest(
        type=body.type,
        payload=body.payload,
        constraints=body.constraints.model_dump(exclude_none=True),
        max_price=body.max_price,
        ttl_seconds=body.ttl_seconds,
        priority=body.priority,
    )
    job = job_submit(client=request.auth, request=job_request, idempotency_key=idempotency_key(request))
    return Status(201, job_view(job, explain=True))


@router.get("/jobs", auth=clients, response=JobList)
def job_list(
    request,
    state: JobState | None = None,
    type: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """The caller's jobs, newest first (an admin sees everyone's)."""
    count, jobs = job_list_for(request.auth, state=state, type=type, limit=limit, offset=offset)
    return {"items": [job_view(job) for job in jobs], "count": count}


@router.get("/jobs/{job_id}", auth=clients, response={200: JobOut, 404: Error})
def job_get(request, job_id: UUID):
    return job_view(job_get_for(request.auth, job_id), explain=True)


@router.get("/jobs/{job_id}/result", auth=clients, response={200: JobResult, 404: Error, 409: Error, 425: Error})
def job_result(request, job_id: UUID):
    """200 once COMPLETED; 425 while it is not finished; 409 with the error when it failed or ended otherwise."""
    job = job_get_for(request.auth, job_id)
    if job.state == JobState.COMPLETED:
        return {"job_id": job.id, "state": job.state, "result": job.result}
    if job.state in (JobState.FAILED, JobState.CANCELED, JobState.EXPIRED):
        message = (job.error or {}).get("message", "")
        raise Conflict(
            f"job {job.id} is {job.state}" + (f": {message}" if message else ""), code=f"job_{job.state.lower()}"
        )
    raise ApiError(f"job {job.id} is {job.state}; its result is not ready yet", code="not_finished", status=425)


@router.post("/jobs/{job_id}/cancel", auth=clients, response={200: JobOut, 404: Error, 409: Error})
def job_cancel_view(request, job_id: UUID):
    """Cancel a job that has not finished; its escrow is released."""
    return job_view(job_cancel(client=request.auth, job_id=job_id))


@router.post("/jobs/{job_id}/requeue", auth=admins, response={200: JobOut, 403: Error, 404: Error, 409: Error})
def job_requeue_view(request, job_id: UUID):
    """(admin) Send a queued, assigned or running job back to the queue, to be dispatched again."""
    return job_view(job_requeue(operator=request.auth, job_id=job_id))


@router.get("/jobs/{job_id}/receipt", auth=clients, response={200: dict, 404: Error, 409: Error, 425: Error})
def job_receipt(request, job_id: UUID):
    """The job's signed receipt (verify it with the keys at trading's /v1/explorer/keys)."""
    job = job_get_for(request.auth, job_id)
    if job.state in (JobState.FAILED, JobState.CANCELED, JobState.EXPIRED):
        raise Conflict(f"job {job.id} is {job.state}: no receipt", code="no_receipt")
    receipt = trading.receipt_get(job.receipt_id) if job.receipt_id else None
    if receipt is None:
        raise ApiError(f"job {job.id} is {job.state}; no receipt yet", code="not_finished", status=425)
    return receipt
