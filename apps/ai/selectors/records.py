"""What the platform saw each miner's runs end in, from its own job attempts: never what a miner says of itself.

A reported failure, a lease that ran out, a TTL that ran out while the job ran, and a run the miner walked away
from by deregistering all count against the miner; a client's cancel and an admin's requeue do not."""

from django.db.models import Count, Q

from apps.ai.models import JobAttempt

RUN_FAILED = ("failed", "lease_lost", "expired", "miner_left")


def miner_run_records(miner_ids, *, job_type: str | None = None) -> dict:
    """{miner_id: {"completed", "failed"}} over the runs (job attempts) of the miners that ran any (of job_type,
    when given)."""
    runs = JobAttempt.objects.filter(miner_id__in=list(miner_ids))
    if job_type is not None:
        runs = runs.filter(job__type=job_type)
    rows = runs.values("miner_id").annotate(
        completed=Count("id", filter=Q(outcome="completed")), failed=Count("id", filter=Q(outcome__in=RUN_FAILED))
    )
    return {row["miner_id"]: {"completed": row["completed"], "failed": row["failed"]} for row in rows.order_by()}
