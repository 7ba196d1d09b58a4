"""The miner job protocol: a miner polls for the next job that fits it, and reports its result or its failure.

The gpu service serves these paths (its URLconf mounts this router), as the seed's miners expect; the protocol is
the job pipeline's, so it lives here.
"""

import asyncio
import time
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async
from ninja import Field, Router, Schema, Status
from pydantic import BaseModel, ConfigDict

from aitbc_site.api import Error
from aitbc_site.router import connections_release
from apps.accounts.auth import miners
from apps.ai.selectors.jobs import claimed_job_view
from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete, job_fail
from apps.gpu.facade import MinerView, miner_registered

router = Router(tags=["miners"])
POLL_INTERVAL_S = 0.2
MAX_GPU_SECONDS = 1e9  # a job's GPU-seconds (billing caps them at its lease anyway): 31 years of one GPU


class PollIn(Schema):
    max_wait_seconds: float = Field(0, ge=0, le=30)


class ClaimedJob(Schema):
    job_id: UUID
    type: str
    payload: dict
    constraints: dict
    lease_expires_at: Any
    attempt: int


class PluginRun(BaseModel):  # a pydantic model, as Capabilities is: an object only
    """The runner plugin that ran a job, as its miner reports it (the job history counts runs by version)."""

    name: str = Field("", max_length=64)
    version: str = Field("", max_length=64)
    sha256: str = Field("", max_length=64)


class Metrics(Schema):
    model_config = ConfigDict(extra="allow")
    gpu_seconds: float = Field(ge=0, le=MAX_GPU_SECONDS)
    duration_ms: float = Field(0, ge=0, le=MAX_GPU_SECONDS * 1000)
    # named, because ninja's Schema drops undeclared keys whatever `extra` says
    device: str | None = Field(None, max_length=200)
    device_kind: str | None = Field(None, max_length=16)
    nvml: dict[str, Any] | None = None
    plugin: PluginRun | None = Field(None, description="the runner plugin that ran it: name, version, sha256")


class ResultIn(Schema):
    result: dict[str, Any]
    metrics: Metrics


class ResultOut(Schema):
    job_id: UUID
    state: str
    receipt_id: UUID | None


class FailIn(Schema):
    error_code: str = Field(max_length=64)
    error_message: str = Field("", max_length=2000)
    retryable: bool = False


class FailOut(Schema):
    job_id: UUID
    state: str


def _claim_once(miner: MinerView):
    """One claim; the connections go back to their pools before the long-poll waits, so that waiting miners
    never hold the connections every other request of this service needs."""
    try:
        return job_claim(miner=miner)
    finally:
        connections_release()


@router.post("/miners/poll", auth=miners, response={200: ClaimedJob, 204: None, 404: Error})
async def miners_poll(request, body: PollIn):
    """The next job that fits this miner, now RUNNING and held by it; waits up to max_wait_seconds (204: none)."""
    miner = await sync_to_async(miner_registered)(request.auth)
    deadline = time.monotonic() + body.max_wait_seconds
    while True:
        job = await sync_to_async(_claim_once)(miner)
        if job is not None:
            return Status(200, claimed_job_view(job))
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Status(204, None)
        await asyncio.sleep(min(POLL_INTERVAL_S, remaining))


@router.post("/miners/{job_id}/result", auth=miners, response={200: ResultOut, 404: Error, 409: Error, 413: Error})
def miners_result(request, job_id: UUID, body: ResultIn):
    """The result of a job this miner holds; settles it and answers with its receipt (repeatable)."""
    miner = miner_registered(request.auth)
    job = job_complete(miner=miner, job_id=job_id, result=body.result, metrics=body.metrics.model_dump())
    return {"job_id": job.id, "state": job.state, "receipt_id": job.receipt_id}


@router.post("/miners/{job_id}/fail", auth=miners, response={200: FailOut, 404: Error, 409: Error})
def miners_fail(request, job_id: UUID, body: FailIn):
    """A job this miner could not finish: queued again if retryable and attempts remain, else FAILED (refunded)."""
    miner = miner_registered(request.auth)
    job = job_fail(
        miner=miner, job_id=job_id, code=body.error_code, message=body.error_message, retryable=body.retryable
    )
    return {"job_id": job.id, "state": job.state}
