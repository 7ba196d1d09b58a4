"""What other apps (the gpu service's miner endpoints) may ask of the job pipeline."""

from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete, job_fail, jobs_requeue_for_miner, leases_renew

__all__ = ["job_claim", "job_complete", "job_fail", "jobs_requeue_for_miner", "leases_renew", "claimed_job_view"]


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
