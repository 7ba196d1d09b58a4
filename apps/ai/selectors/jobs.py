import time
from datetime import timedelta
from typing import Any, cast
from uuid import UUID

from django.db.models import Count
from django.db.models.functions import TruncMinute
from django.utils import timezone

from aitbc_site.errors import NotFound
from aitbc_site.money import money_str
from aitbc_site.times import iso
from apps.accounts.facade import PrincipalView
from apps.ai.matching import miner_fit
from apps.ai.models import Job, JobState
from apps.gpu import facade as gpu


def job_get_for(principal: PrincipalView, job_id: UUID) -> Job:
    """The job, if this principal may see it (its client, or an admin); 404 exactly as if it did not exist."""
    job = Job.objects.filter(id=job_id).first()
    if job is None or (job.client_id != principal.id and not principal.is_admin):
        raise NotFound(f"no job {job_id}")
    return job


def job_list_for(principal: PrincipalView, *, state=None, type=None, limit=50, offset=0):
    jobs = Job.objects.all() if principal.is_admin else Job.objects.filter(client_id=principal.id)
    if state:
        jobs = jobs.filter(state=state)
    if type:
        jobs = jobs.filter(type=type)
    jobs = jobs.order_by("-created_at")
    return jobs.count(), list(jobs[offset : offset + limit])


# The online miners a waiting reason is worked out from, read at most once a second per process: clients poll
# their queued jobs, and a reason a second old is as good to them as a fresh one (dispatch reads them fresh).
WAITING_MINERS_SECONDS = 1.0
_waiting_miners: dict = {"miners": None, "until": 0.0}


def waiting_miners_forget() -> None:
    _waiting_miners["miners"], _waiting_miners["until"] = None, 0.0


def _miners_online_recently() -> list:
    if _waiting_miners["miners"] is None or time.monotonic() >= _waiting_miners["until"]:
        _waiting_miners["miners"] = gpu.miners_online()
        _waiting_miners["until"] = time.monotonic() + WAITING_MINERS_SECONDS
    return _waiting_miners["miners"]


def job_waiting_reason(job: Job) -> str | None:
    """Why a queued job is still waiting, in words a client can act on (from the miners online a second ago)."""
    if job.state != JobState.QUEUED:
        return None
    online = _miners_online_recently()
    if not online:
        return "no miner is online"
    reasons = [miner_fit(m, job) for m in online]
    if all(reasons):
        misfits = cast(list[str], reasons)  # all of them set: each is why that miner does not fit
        return f"no online miner matches its constraints ({'; '.join(sorted(set(misfits))[:3])})"
    return "waiting for a free slot on a matching miner"


def job_view(job: Job, *, explain: bool = False) -> dict:
    return {
        "job_id": job.id,
        "type": job.type,
        "state": job.state,
        "assigned_miner_id": job.assigned_miner_id,
        "attempts": job.attempts,
        "requested_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "expires_at": iso(job.expires_at),
        "max_price": money_str(job.max_price),
        "price": money_str(job.price),
        "fee": money_str(job.fee),
        "units": money_str(job.units),
        "reported_units": money_str(job.units if job.reported_units is None else job.reported_units),
        "billed_units": money_str(job.units),
        "unit_price": money_str(job.unit_price),
        "quoted_unit_price": money_str(job.quoted_unit_price),
        "receipt_id": job.receipt_id,
        "constraints": job.constraints,
        "error": job.error,
        "waiting_reason": job_waiting_reason(job) if explain else None,
    }


FINISHED_STATES = ("COMPLETED", "FAILED", "CANCELED", "EXPIRED")


def jobs_by_state() -> dict[str, int]:
    """How many jobs are in each state now (every state named, zero included)."""
    counts = dict.fromkeys(JobState.values, 0)
    counts.update(Job.objects.values_list("state").annotate(n=Count("id")).order_by())
    return counts


def _per_minute(queryset, field: str, since) -> dict:
    rows = (
        queryset.filter(**{f"{field}__gte": since})
        .annotate(minute=TruncMinute(field))
        .values("minute")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["minute"].replace(second=0, microsecond=0): row["n"] for row in rows}


def jobs_per_minute(minutes: int = 30) -> dict:
    """Jobs per minute over the last `minutes` whole minutes (the current one included), from the jobs'
    stored times: `submitted` by created_at, `started` by started_at and each end state by finished_at.
    {"minutes": [ISO minute, ...], "series": {"submitted": [n, ...], "started": [...], "COMPLETED": [...], ...}}"""
    now = timezone.now().replace(second=0, microsecond=0)
    axis = [now - timedelta(minutes=minutes - 1 - i) for i in range(minutes)]
    counted = {
        "submitted": _per_minute(Job.objects.all(), "created_at", axis[0]),
        "started": _per_minute(Job.objects.all(), "started_at", axis[0]),
    }
    for state in FINISHED_STATES:
        counted[state] = _per_minute(Job.objects.filter(state=state), "finished_at", axis[0])
    return {
        "minutes": [iso(m) for m in axis],
        "series": {name: [by_minute.get(m, 0) for m in axis] for name, by_minute in counted.items()},
    }


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


def job_type_counts(types: list[str]) -> dict[str, dict]:
    """Per job type: jobs completed and failed, and completed ones by the plugin version their miner
    reported running (metrics.plugin.version), from the job history."""
    counts: dict[str, dict[str, Any]] = {t: {"completed": 0, "failed": 0, "by_version": {}} for t in types}
    jobs = Job.objects.filter(type__in=types, state__in=(JobState.COMPLETED, JobState.FAILED))
    for row in jobs.values("type", "state").annotate(n=Count("id")):
        counts[row["type"]][row["state"].lower()] = row["n"]
    completed = jobs.filter(state=JobState.COMPLETED, metrics__plugin__version__isnull=False)
    for version_row in completed.values("type", "metrics__plugin__version").annotate(n=Count("id")):
        counts[version_row["type"]]["by_version"][str(version_row["metrics__plugin__version"])] = version_row["n"]
    return counts
