from uuid import UUID

from celery import shared_task

from apps.ai.services.benchmarks import benchmarks_refresh_running
from apps.ai.services.dispatch import job_dispatch
from apps.ai.services.lifecycle import job_settle_completed
from apps.ai.services.sweep import jobs_sweep
from apps.ai.services.tuning import tunes_refresh_running


@shared_task(name="ai.sweep_jobs", soft_time_limit=50, time_limit=60)
def sweep_jobs() -> dict:
    """Lost leases back to the queue, TTLs expired, lost wake-ups resent, half-done sagas finished."""
    return jobs_sweep()


@shared_task(name="ai.dispatch_job")
def dispatch_job(job_id: str) -> str | None:
    miner = job_dispatch(UUID(job_id))
    return str(miner) if miner else None


@shared_task(
    name="ai.settle_job",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
)
def settle_job(job_id: str) -> str | None:
    """Pays a completed job and signs its receipt; running it again moves no money."""
    job = job_settle_completed(UUID(job_id))
    return str(job.receipt_id) if job.receipt_id else None


@shared_task(name="ai.refresh_studies", soft_time_limit=25, time_limit=30)
def refresh_studies() -> dict:
    """Benchmarks and parameter sweeps follow their jobs: measured seconds stored, best trials named."""

    return {"benchmarks_finished": benchmarks_refresh_running(), "tunes_finished": tunes_refresh_running()}
