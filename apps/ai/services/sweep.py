"""The periodic repair of the job pipeline: lost leases, TTLs, lost wake-ups, half-done sagas."""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from aitbc_site.parameters import parameter_get
from apps.ai.models import HELD_STATES, Job, JobAttempt, JobState
from apps.ai.services.dispatch import job_dispatch
from apps.ai.services.lifecycle import _attempt_end, _release_on_commit, _requeue_or_fail, job_settle_completed
from apps.trading import facade as trading

log = logging.getLogger(__name__)
DB = "ai"
BATCH = 500
SAGA_GRACE = timedelta(seconds=60)  # a submit or a completion still in flight is left alone this long


def _leases_expire(now) -> int:
    expired = 0
    for job_id in Job.objects.filter(state__in=HELD_STATES, lease_expires_at__lt=now).values_list("id", flat=True)[
        :BATCH
    ]:
        with transaction.atomic(using=DB):
            job = Job.objects.select_for_update(skip_locked=True).filter(id=job_id, lease_expires_at__lt=now).first()
            if job is None or job.state not in HELD_STATES:
                continue
            started = job.state == JobState.RUNNING
            if started:
                attempt = JobAttempt.objects.filter(job=job).order_by("-number").first()
                assert attempt is not None  # claiming a job makes its attempt in the same transaction
                _attempt_end(attempt, "lease_lost")
            error = {"code": "lease_lost", "message": "the miner stopped renewing its lease"}
            _requeue_or_fail(job, error, count_attempt=started)
            expired += 1
    return expired


def _ttls_expire(now) -> int:
    expired = 0
    live = (JobState.QUEUED, *HELD_STATES)
    for job_id in Job.objects.filter(state__in=live, expires_at__lt=now).values_list("id", flat=True)[:BATCH]:
        with transaction.atomic(using=DB):
            job = Job.objects.select_for_update(skip_locked=True).filter(id=job_id, state__in=live).first()
            if job is None:
                continue
            if job.state == JobState.RUNNING:
                running = JobAttempt.objects.filter(job=job).order_by("-number").first()
                assert running is not None  # claiming a job makes its attempt in the same transaction
                _attempt_end(running, "expired")
            job.state, job.finished_at, job.lease_expires_at = JobState.EXPIRED, now, None
            job.error = {"code": "expired", "message": f"not completed within its TTL of {job.ttl_seconds} s"}
            job.save()
            _release_on_commit(job.id)
            expired += 1
    return expired


def _wakeups_resend(now) -> int:
    stale = now - timedelta(seconds=parameter_get("redispatch_after_s"))
    queued = Job.objects.filter(state=JobState.QUEUED).filter(
        Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=stale)
    )
    woken = 0
    for job_id in queued.order_by("-priority", "created_at").values_list("id", flat=True)[:BATCH]:
        woken += job_dispatch(job_id) is not None
    return woken


def _sagas_repair(now) -> dict:
    """A PENDING job with escrow goes on, without it is dropped; finished jobs get paid or refunded."""
    old = now - SAGA_GRACE
    repaired = {"pending_queued": 0, "pending_dropped": 0, "settled": 0, "released": 0}
    stale = list(Job.objects.filter(state=JobState.PENDING, created_at__lt=old).values_list("id", flat=True))
    escrowed = set(trading.job_escrows_held(older_than=now)) if stale else set()  # a hold placed late counts
    for job_id in stale:
        still_pending = Job.objects.filter(id=job_id, state=JobState.PENDING)  # a retried submit may have moved on
        if str(job_id) in escrowed:
            repaired["pending_queued"] += still_pending.update(state=JobState.QUEUED, updated_at=now)
        else:
            repaired["pending_dropped"] += still_pending.delete()[0]
    held = set(trading.job_escrows_held(older_than=old))
    for job_id in Job.objects.filter(
        state=JobState.COMPLETED, receipt_id__isnull=True, finished_at__lt=old
    ).values_list("id", flat=True):
        try:
            job_settle_completed(job_id)
            repaired["settled"] += 1
        except Exception:  # one job that cannot be paid yet must not keep the rest from being repaired
            log.exception("settling job %s failed; the next sweep tries again", job_id)
    live = {str(i) for i in Job.objects.filter(id__in=held).exclude(state__in=FINISHED).values_list("id", flat=True)}
    for held_id in held - live:
        with transaction.atomic(using=DB):
            if not Job.objects.filter(id=held_id, state=JobState.COMPLETED).exists():
                # trading hands held job ids out as str and takes them back as UUID (it only formats them)
                _release_on_commit(held_id)
                repaired["released"] += 1
    return repaired


FINISHED = (JobState.FAILED, JobState.CANCELED, JobState.EXPIRED, JobState.COMPLETED)


def jobs_sweep() -> dict:
    now = timezone.now()
    report = {"leases_expired": _leases_expire(now), "ttls_expired": _ttls_expire(now)}
    report["redispatched"] = _wakeups_resend(now)
    report.update(_sagas_repair(now))
    return report
