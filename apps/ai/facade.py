"""What other apps (the gpu service's miner endpoints, hermes) may ask of the job pipeline."""

from dataclasses import dataclass
from decimal import Decimal

from apps.ai.api import Constraints as JobConstraints  # the job constraints schema other APIs accept too
from apps.ai.records import miner_run_records
from apps.ai.selectors import jobs_by_state, jobs_per_minute
from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete, job_fail, jobs_requeue_for_miner, leases_renew

__all__ = [
    "JobConstraints",
    "job_claim",
    "job_complete",
    "job_fail",
    "jobs_requeue_for_miner",
    "leases_renew",
    "claimed_job_view",
    "jobs_by_state",
    "jobs_per_minute",
]


def claimed_job_view(job) -> dict:
    """What a miner is told about a job it claimed."""
    return {
        "job_id": job.id,
        "type": job.type,
        "payload": job.payload,
        "constraints": job.constraints,
        "lease_expires_at": job.lease_expires_at,
        "attempt": job.attempts,
    }


# --- for hermes (workflows, routing, offloading): plain values only ---------------------------------------


def job_request_check(*, type: str, payload: dict | None = None) -> None:
    """422 (Invalid) when `type` is no known job type (built in, or from a registered runner plugin) or, when
    a payload is given, the payload is wrong for it: the same checks as a submit."""
    from apps.ai.services.submit import JobRequest, _payload_checked, runner_of

    runner_of(type)
    if payload is not None:
        _payload_checked(JobRequest(type=type, payload=payload, max_price=0, ttl_seconds=0))


def job_estimate_gpu_seconds(*, type: str, payload: dict) -> float | None:
    """The runner's own estimate of a job's GPU-seconds; None for an unknown type or a payload it refuses."""
    from aitbc_miner.runners import PayloadError
    from aitbc_site.errors import Invalid
    from apps.ai.services.submit import runner_of

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
    from aitbc_site.errors import NotFound
    from apps.accounts.facade import principal_get
    from apps.ai.services.submit import JobRequest, job_submit

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


@dataclass(frozen=True)
class JobInfo:
    job_id: object
    client_id: object
    type: str
    state: str
    result: dict | None
    error: dict | None
    assigned_miner_id: object
    created_at: object
    started_at: object
    finished_at: object
    price: object

    @classmethod
    def from_model(cls, job) -> "JobInfo":
        return cls(
            job_id=job.id,
            client_id=job.client_id,
            type=job.type,
            state=job.state,
            result=job.result,
            error=job.error,
            assigned_miner_id=job.assigned_miner_id,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            price=job.price,
        )


def jobs_info(job_ids) -> dict:
    """{job_id: JobInfo} for the jobs that exist among `job_ids`."""
    from apps.ai.models import Job

    return {job.id: JobInfo.from_model(job) for job in Job.objects.filter(id__in=list(job_ids))}


def job_cancel_for(*, client_id, job_id) -> str:
    """Cancels a client's unfinished job (escrow released); returns the job's state (already final: unchanged)."""
    from aitbc_site.errors import Conflict
    from apps.accounts.facade import PrincipalView
    from apps.ai.services.lifecycle import job_cancel

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
    from apps.ai.services.dispatch import inflight_by_miner

    return inflight_by_miner(list(miner_ids))


def job_queue_depth(*, type: str) -> int:
    """How many jobs of this type wait in the queue now."""
    from apps.ai.models import Job, JobState

    return Job.objects.filter(type=type, state=JobState.QUEUED).count()


def job_history(*, type: str, limit: int = 500) -> list[dict]:
    """The latest completed jobs of a type, newest first, as plain numbers: {"device" (the GPU or CPU it
    ran on, as the miner reported it), "run_s" (started to finished), "wait_s" (submitted to started),
    "gpu_seconds", "unit_price", "price"}."""
    from apps.ai.models import Job, JobState

    jobs = (
        Job.objects.filter(type=type, state=JobState.COMPLETED, started_at__isnull=False, finished_at__isnull=False)
        .order_by("-finished_at")
        .values("metrics", "created_at", "started_at", "finished_at", "units", "unit_price", "price")[:limit]
    )
    return [
        {
            "device": str((job["metrics"] or {}).get("device") or ""),
            "run_s": (job["finished_at"] - job["started_at"]).total_seconds(),
            "wait_s": max((job["started_at"] - job["created_at"]).total_seconds(), 0.0),
            "gpu_seconds": job["units"],
            "unit_price": job["unit_price"],
            "price": job["price"],
        }
        for job in jobs
    ]


def miners_fitting(*, type: str, payload: dict, constraints: dict, max_price) -> list:
    """The online miners (MinerView) that could take a job of this type, constraints and price cap now."""
    from apps.ai.matching import miner_fit
    from apps.ai.models import Job
    from apps.ai.services.submit import _constraint_columns
    from apps.gpu import facade as gpu

    estimate = job_estimate_gpu_seconds(type=type, payload=payload) or 0
    probe = Job(
        type=type, max_price=max_price, expected_units=Decimal(str(estimate)), **_constraint_columns(constraints)
    )
    return [m for m in gpu.miners_online() if miner_fit(m, probe) is None]


def job_find_by_key(*, client_id, idempotency_key: str) -> JobInfo | None:
    """The client's job submitted under this Idempotency-Key, if there is one."""
    from apps.ai.models import Job

    job = Job.objects.filter(client_id=client_id, idempotency_key=idempotency_key).first() if idempotency_key else None
    return JobInfo.from_model(job) if job else None


def job_type_counts(types: list[str]) -> dict[str, dict]:
    """Per job type: jobs completed and failed, and completed ones by the plugin version their miner
    reported running (metrics.plugin.version), from the job history."""
    from django.db.models import Count

    from apps.ai.models import Job, JobState

    counts = {t: {"completed": 0, "failed": 0, "by_version": {}} for t in types}
    jobs = Job.objects.filter(type__in=types, state__in=(JobState.COMPLETED, JobState.FAILED))
    for row in jobs.values("type", "state").annotate(n=Count("id")):
        counts[row["type"]][row["state"].lower()] = row["n"]
    completed = jobs.filter(state=JobState.COMPLETED, metrics__plugin__version__isnull=False)
    for row in completed.values("type", "metrics__plugin__version").annotate(n=Count("id")):
        counts[row["type"]]["by_version"][str(row["metrics__plugin__version"])] = row["n"]
    return counts
