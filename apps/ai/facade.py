"""What other apps (hermes, monitoring, plugin) may ask of the job pipeline: plain values only
(apps/ai/contracts.py), never ORM objects."""

from datetime import datetime
from decimal import Decimal
from typing import cast

from aitbc_miner.runners import PayloadError
from aitbc_site.errors import Conflict, Invalid, NotFound
from apps.accounts.facade import PrincipalView, principal_get
from apps.ai.contracts import JobInfo
from apps.ai.matching import miner_fit
from apps.ai.models import Job, JobState
from apps.ai.selectors.jobs import jobs_by_state, jobs_per_minute
from apps.ai.selectors.records import miner_run_records
from apps.ai.services.dispatch import inflight_by_miner
from apps.ai.services.lifecycle import job_cancel
from apps.ai.services.submit import JobRequest, constraint_columns, job_submit, payload_checked, runner_of
from apps.gpu import facade as gpu

__all__ = ["JobInfo", "jobs_by_state", "jobs_per_minute"]

# --- for hermes (workflows, routing, offloading): plain values only ---------------------------------------


def job_request_check(*, type: str, payload: dict | None = None) -> None:
    """422 (Invalid) when `type` is no known job type (built in, or from a registered runner plugin) or, when
    a payload is given, the payload is wrong for it: the same checks as a submit."""
    runner_of(type)
    if payload is not None:
        payload_checked(JobRequest(type=type, payload=payload, max_price=Decimal(0), ttl_seconds=0))


def job_estimate_gpu_seconds(*, type: str, payload: dict) -> float | None:
    """The runner's own estimate of a job's GPU-seconds; None for an unknown type or a payload it refuses."""
    try:
        runner = runner_of(type)
        return runner.estimate_gpu_seconds(runner.validate(dict(payload)))
    except (Invalid, PayloadError):
        return None


def job_submit_for(
    *,
    client_id,
    type: str,
    payload: dict,
    constraints: dict,
    max_price,
    ttl_seconds: int,
    idempotency_key: str,
    pinned_miner_id=None,
    quoted_unit_price=None,
) -> "JobInfo":
    """Submits a job on behalf of a client, exactly as POST /v1/jobs does (escrow held, 402 when short);
    the same idempotency_key returns the job it made the first time. With `pinned_miner_id`, only that
    miner may run it. With `quoted_unit_price` (AIT per GPU-second, the price a routed agent advertised;
    needs `pinned_miner_id`), the job is priced at the quote, not at its miner's registered unit price."""
    client = principal_get(client_id)
    if client is None:
        raise NotFound(f"no active principal {client_id}")
    request = JobRequest(
        type=type,
        payload=payload,
        constraints=constraints,
        max_price=max_price,
        ttl_seconds=ttl_seconds,
        pinned_miner_id=pinned_miner_id,
        quoted_unit_price=None if quoted_unit_price is None else Decimal(str(quoted_unit_price)),
    )
    return JobInfo.from_model(job_submit(client=client, request=request, idempotency_key=idempotency_key))


def jobs_info(job_ids) -> dict:
    """{job_id: JobInfo} for the jobs that exist among `job_ids`."""
    return {job.id: JobInfo.from_model(job) for job in Job.objects.filter(id__in=list(job_ids))}


def job_cancel_for(*, client_id, job_id) -> str:
    """Cancels a client's unfinished job (escrow released); returns the job's state (already final: unchanged)."""
    try:
        return job_cancel(client=PrincipalView(id=client_id, name="", role="client"), job_id=job_id).state
    except Conflict:
        return jobs_info([job_id])[job_id].state


def miner_track_records(miner_ids) -> dict:
    """{miner_id: {"completed", "failed"}}: how the runs of the jobs each miner took ended, from the platform's
    own job attempts. A run counts as failed when the miner reported a failure, lost its lease, ran past the
    job's TTL or walked away from it by deregistering; nothing a miner says about itself enters it."""
    return miner_run_records(miner_ids)


def miner_loads(miner_ids) -> dict:
    """{miner_id: jobs assigned to or running on it now}."""
    return inflight_by_miner(list(miner_ids))


def job_queue_depth(*, type: str) -> int:
    """How many jobs of this type wait in the queue now."""
    return Job.objects.filter(type=type, state=JobState.QUEUED).count()


def job_history(*, type: str, limit: int = 500) -> list[dict]:
    """The latest completed jobs of a type, newest first, as plain numbers: {"device" (the GPU or CPU it
    ran on, as the miner reported it), "run_s" (started to finished), "wait_s" (submitted to started),
    "gpu_seconds", "unit_price", "price"}."""
    jobs = (
        Job.objects.filter(type=type, state=JobState.COMPLETED, started_at__isnull=False, finished_at__isnull=False)
        .order_by("-finished_at")
        .values("metrics", "created_at", "started_at", "finished_at", "units", "unit_price", "price")[:limit]
    )
    # started_at and finished_at are set: the filter above
    return [
        {
            "device": str((job["metrics"] or {}).get("device") or ""),
            "run_s": (cast(datetime, job["finished_at"]) - cast(datetime, job["started_at"])).total_seconds(),
            "wait_s": max((cast(datetime, job["started_at"]) - job["created_at"]).total_seconds(), 0.0),
            "gpu_seconds": job["units"],
            "unit_price": job["unit_price"],
            "price": job["price"],
        }
        for job in jobs
    ]


def miners_fitting(*, type: str, payload: dict, constraints: dict, max_price) -> list:
    """The online miners (MinerView) that could take a job of this type, constraints and price cap now."""
    estimate = job_estimate_gpu_seconds(type=type, payload=payload) or 0
    probe = Job(
        type=type, max_price=max_price, expected_units=Decimal(str(estimate)), **constraint_columns(constraints)
    )
    return [m for m in gpu.miners_online() if miner_fit(m, probe) is None]


def job_find_by_key(*, client_id, idempotency_key: str) -> JobInfo | None:
    """The client's job submitted under this Idempotency-Key, if there is one."""
    job = Job.objects.filter(client_id=client_id, idempotency_key=idempotency_key).first() if idempotency_key else None
    return JobInfo.from_model(job) if job else None
