"""Waking a GPU worker for a queued job. The message is only a wake-up: the database stays the truth."""

import logging
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from aitbc_site.celery import app
from aitbc_site.parameters import parameter_get
from aitbc_site.queues import gpu_queue
from apps.ai.matching import miner_fit, unit_price_for
from apps.ai.models import HELD_STATES, Job, JobState
from apps.ai.selectors.speeds import benchmark_seconds
from apps.gpu import facade as gpu

log = logging.getLogger(__name__)
DB = "ai"
GPU_TASK = "gpu.execute_next"


def inflight_by_miner(miner_ids) -> dict:
    rows = Job.objects.filter(assigned_miner_id__in=miner_ids, state__in=HELD_STATES)
    return dict(rows.values("assigned_miner_id").annotate(n=Count("id")).values_list("assigned_miner_id", "n"))


def gpu_worker_wake(miner_id: UUID, job_id: UUID) -> None:
    app.send_task(GPU_TASK, kwargs={"job_id": str(job_id)}, queue=gpu_queue(str(miner_id)))


def job_dispatch(job_id: UUID) -> UUID | None:
    """Assigns a queued job to the online GPU worker that fits it at the lowest expected cost (unit price x
    the seconds its platform-timed benchmarks of the job's type predict for a job of this size, or x the job's
    estimate where it has no benchmark), the least loaded first among equals, and wakes it.

    Polling miners need no wake-up: they claim queued jobs themselves. Returns the miner woken, if any.
    """
    workers = [m for m in gpu.miners_online() if m.mode == "celery"]
    now = timezone.now()
    with transaction.atomic(using=DB):
        job = Job.objects.select_for_update(skip_locked=True).filter(id=job_id, state=JobState.QUEUED).first()
        if job is None:
            return None
        job.dispatched_at = now
        loads = inflight_by_miner([m.id for m in workers])
        fitting = [m for m in workers if miner_fit(m, job) is None and loads.get(m.id, 0) < m.concurrency]
        if not fitting:
            job.save(update_fields=["dispatched_at", "updated_at"])
            return None
        seconds = benchmark_seconds(job.type, [m.id for m in fitting], units=job.expected_units)  # platform-timed
        best = min(
            fitting,
            key=lambda m: (
                unit_price_for(m, job) * Decimal(str(seconds.get(m.id, job.expected_units))),
                loads.get(m.id, 0) / m.concurrency,
            ),
        )
        job.state = JobState.ASSIGNED
        job.unit_price = unit_price_for(best, job)
        job.assigned_miner_id, job.assigned_principal_id = best.id, best.principal_id
        job.lease_expires_at = now + timedelta(seconds=parameter_get("assign_timeout_s"))
        job.save()
        transaction.on_commit(lambda: gpu_worker_wake(best.id, job.id), using=DB)
    return best.id


def job_dispatch_on_commit(job_id: UUID) -> None:
    """Dispatch once the job's transaction commits (call inside transaction.atomic(using="ai"))."""

    def dispatch():
        try:
            job_dispatch(job_id)
        except Exception:  # the sweep dispatches it again; a submit must not fail for this
            log.exception("dispatch of job %s failed; the sweep will retry", job_id)

    transaction.on_commit(dispatch, using=DB)
