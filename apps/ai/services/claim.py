"""The one claim: how any miner, GPU worker or polling miner, takes a job. Atomic, so never twice."""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from aitbc_site.parameters import parameter_get
from apps.ai.locks import miner_claims_lock
from apps.ai.matching import claimable_filter, miner_fit, unit_price_for
from apps.ai.models import Job, JobAttempt, JobState
from apps.ai.services.dispatch import job_dispatch_on_commit
from apps.gpu.facade import MinerView

log = logging.getLogger(__name__)
DB = "ai"
CLAIM_SCAN = 25  # queued jobs looked at per claim, oldest first within priority


def _unassigned(job: Job, miner: MinerView, reason: str) -> None:
    """A job assigned to a miner that no longer fits it goes back to the queue, to be dispatched elsewhere."""
    log.info("job %s is no longer given to miner %s (%s); it goes back to the queue", job.id, miner.id, reason)
    job.state, job.dispatched_at = JobState.QUEUED, None
    job.assigned_miner_id = job.assigned_principal_id = job.unit_price = job.lease_expires_at = None
    job.save()
    job_dispatch_on_commit(job.id)


def job_claim(*, miner: MinerView) -> Job | None:
    """The next job for this miner, now RUNNING under a lease; None when nothing fits or no slot is free.

    A job woken on this miner (ASSIGNED to it) comes first, then the oldest fitting QUEUED job of the
    highest priority. Rows are taken with SELECT ... FOR UPDATE SKIP LOCKED inside one transaction.

    An assigned job keeps the unit price fixed at its assignment, whatever the miner registered since; the
    miner must still fit it (its constraints, and max_price at that price), or the job goes back to the queue.
    A queued job taken here is assigned by this claim: its price is fixed now (its quote, else the miner's).
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
        job, unfit = None, []
        for assigned in live.filter(state=JobState.ASSIGNED, assigned_miner_id=miner.id)[:CLAIM_SCAN]:
            reason = miner_fit(miner, assigned)
            if reason is None:
                job = assigned
                break
            _unassigned(assigned, miner, reason)
            unfit.append(assigned.id)
        if job is None:
            queued = live.filter(claimable_filter(miner), state=JobState.QUEUED).exclude(id__in=unfit)
            job = next((j for j in queued[:CLAIM_SCAN] if miner_fit(miner, j) is None), None)
        if job is None:
            return None
        job.unit_price = unit_price_for(miner, job)
        job.state = JobState.RUNNING
        job.attempts += 1
        job.assigned_miner_id, job.assigned_principal_id = miner.id, miner.principal_id
        job.started_at = now
        job.lease_expires_at = now + timedelta(seconds=parameter_get("lease_timeout_s"))
        job.save()
        JobAttempt.objects.create(job=job, number=job.attempts, miner_id=miner.id, started_at=now)
    return job
