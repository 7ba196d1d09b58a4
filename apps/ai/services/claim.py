"""The one claim: how any miner, GPU worker or polling miner, takes a job. Atomic, so never twice."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.ai.locks import miner_claims_lock
from apps.ai.matching import claimable_filter, miner_fit
from apps.ai.models import Job, JobAttempt, JobState
from apps.governance.facade import parameter_get
from apps.gpu.facade import MinerView

DB = "ai"
CLAIM_SCAN = 25  # queued jobs looked at per claim, oldest first within priority


def job_claim(*, miner: MinerView) -> Job | None:
    """The next job for this miner, now RUNNING under a lease; None when nothing fits or no slot is free.

    A job woken on this miner (ASSIGNED to it) comes first, then the oldest fitting QUEUED job of the
    highest priority. Rows are taken with SELECT ... FOR UPDATE SKIP LOCKED inside one transaction.
    """
    now = timezone.now()
    with transaction.atomic(using=DB):
        miner_claims_lock(miner.id)
        running = Job.objects.filter(assigned_miner_id=miner.id, state=JobState.RUNNING).count()
        if running >= miner.concurrency:
            return None
        live = (
            Job.objects.select_for_update(skip_locked=True)
            .filter(expires_at__gt=now)
            .order_by("-priority", "created_at")
        )
        job = live.filter(state=JobState.ASSIGNED, assigned_miner_id=miner.id).first()
        if job is None:
            candidates = live.filter(claimable_filter(miner), state=JobState.QUEUED)[:CLAIM_SCAN]
            job = next((j for j in candidates if miner_fit(miner, j) is None), None)
        if job is None:
            return None
        job.state = JobState.RUNNING
        job.attempts += 1
        job.assigned_miner_id, job.assigned_principal_id = miner.id, miner.principal_id
        job.unit_price = miner.unit_price
        job.started_at = now
        job.lease_expires_at = now + timedelta(seconds=parameter_get("lease_timeout_s"))
        job.save()
        JobAttempt.objects.create(job=job, number=job.attempts, miner_id=miner.id, started_at=now)
    return job
