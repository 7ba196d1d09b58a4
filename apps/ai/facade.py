"""What other apps (the gpu service's miner endpoints) may ask of the job pipeline."""

from apps.ai.selectors import jobs_by_state, jobs_per_minute
from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete, job_fail, jobs_requeue_for_miner, leases_renew

__all__ = [
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
