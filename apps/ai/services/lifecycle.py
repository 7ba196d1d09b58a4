"""A claimed job's end: completed (paid, receipt signed), failed (retried or refunded), canceled, lost."""

import logging
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aitbc_client.canonical import canonical_json, sha256_hex
from aitbc_site.errors import ApiError, Conflict, Invalid, NotFound
from aitbc_site.money import quantize, quantize_down
from aitbc_site.parameters import parameter_get
from apps.accounts.facade import PrincipalView
from apps.ai.models import HELD_STATES, TERMINAL_STATES, Job, JobAttempt, JobState
from apps.ai.services.dispatch import job_dispatch_on_commit
from apps.gpu import facade as gpu
from apps.gpu.facade import MinerView
from apps.trading import facade as trading

log = logging.getLogger(__name__)
DB = "ai"


def _release_on_commit(job_id: UUID | str) -> None:
    def release():
        try:
            trading.job_escrow_release(job_id=job_id)
        except Exception:  # the sweep releases escrow of finished jobs
            log.exception("escrow release of job %s failed; the sweep will retry", job_id)

    transaction.on_commit(release, using=DB)


def _job_held_by(miner: MinerView, job_id: UUID) -> tuple[Job, JobAttempt]:
    """The job (locked) and this miner's latest run of it; 404 when this miner never ran it."""
    job = Job.objects.select_for_update().filter(id=job_id).first()
    attempt = JobAttempt.objects.filter(job=job, miner_id=miner.id).order_by("-number").first() if job else None
    if job is None or attempt is None:
        raise NotFound(f"no job {job_id} held by this miner")
    return job, attempt


def _holding(job: Job, miner: MinerView) -> bool:
    return job.state == JobState.RUNNING and job.assigned_miner_id == miner.id


def _attempt_end(attempt: JobAttempt, outcome: str, error: dict | None = None) -> None:
    attempt.outcome, attempt.error, attempt.ended_at = outcome, error, timezone.now()
    attempt.save()


def gpus_held(job: Job) -> int:
    """How many GPUs a run of the job holds. A job's constraints name a GPU model, VRAM and CUDA but no GPU
    count, and a miner runs each claimed job in one slot on one device, so it is 1. A job kind that holds
    several GPUs would count them here (and matching would check that the miner has them)."""
    return 1


def _seconds(elapsed: timedelta) -> Decimal:
    """A timedelta as exact seconds (no float on the way)."""
    return Decimal(elapsed.days * 86400 + elapsed.seconds) + Decimal(elapsed.microseconds).scaleb(-6)


def _price(job: Job, gpu_seconds, *, leased: timedelta) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(reported, billed, price, fee). reported = the miner's GPU-seconds; billed = reported, at most what the
    platform saw the run hold: its lease's wall-clock time (claim to result) x the GPUs the job holds; price =
    billed x the unit price fixed at assignment, capped at max_price; fee = price x fee bps."""
    try:
        reported = quantize(Decimal(str(gpu_seconds)))
    except ArithmeticError:
        raise Invalid("metrics.gpu_seconds must be a number") from None
    if not reported.is_finite() or reported < 0:
        raise Invalid("metrics.gpu_seconds must be a number >= 0")
    ceiling = quantize_down(max(_seconds(leased), Decimal(0)) * gpus_held(job))
    billed = min(reported, ceiling)
    assert job.unit_price is not None  # fixed when the job was assigned to the miner now holding it
    price = min(quantize(billed * job.unit_price), job.max_price)
    fee = trading.fee_of(price)
    return reported, billed, price, fee


def job_complete(*, miner: MinerView, job_id: UUID, result: dict, metrics: dict) -> Job:
    """Records the result and settles: a repeat from the same miner returns the same completed job."""
    if len(canonical_json(result)) > settings.AITBC_MAX_PAYLOAD_BYTES:
        raise ApiError(
            f"result is larger than {settings.AITBC_MAX_PAYLOAD_BYTES} bytes", code="payload_too_large", status=413
        )
    with transaction.atomic(using=DB):
        job, attempt = _job_held_by(miner, job_id)
        repeat = job.state == JobState.COMPLETED and job.assigned_miner_id == miner.id
        if not repeat:
            if not _holding(job, miner):
                raise Conflict(
                    f"this miner's lease on job {job_id} was lost (the job is {job.state})", code="lease_lost"
                )
            now = timezone.now()
            priced = _price(job, metrics.get("gpu_seconds", 0), leased=now - attempt.started_at)
            job.reported_units, job.units, job.price, job.fee = priced
            job.state, job.finished_at, job.lease_expires_at = JobState.COMPLETED, now, None
            job.result, job.metrics = result, metrics
            job.output_sha256 = sha256_hex(canonical_json(result))
            job.save()
            _attempt_end(attempt, "completed")
            transaction.on_commit(lambda: gpu.miner_counters_add(miner.id, completed=1), using=DB)
    return job_settle_completed(job.id)


def job_settle_completed(job_id: UUID) -> Job:
    """Captures escrow, pays and signs the receipt of a completed job; safe to run any number of times."""
    job = Job.objects.get(id=job_id)
    if job.state != JobState.COMPLETED or job.receipt_id is not None:
        return job
    # a completed job was assigned, started, priced and finished (job_complete)
    assert job.assigned_miner_id is not None and job.assigned_principal_id is not None
    assert job.units is not None and job.unit_price is not None and job.price is not None and job.fee is not None
    assert job.started_at is not None and job.finished_at is not None
    receipt_id = trading.job_settle(
        trading.JobSettlement(
            job_id=job.id,
            client_id=job.client_id,
            miner_id=job.assigned_miner_id,
            miner_principal_id=job.assigned_principal_id,
            type=job.type,
            input_sha256=job.input_sha256,
            output_sha256=job.output_sha256,
            units=job.units,
            reported_units=job.reported_units,
            unit_price=job.unit_price,
            price=job.price,
            fee=job.fee,
            started_at=job.started_at,
            completed_at=job.finished_at,
        )
    )
    Job.objects.filter(id=job.id, receipt_id__isnull=True).update(receipt_id=receipt_id, updated_at=timezone.now())
    job.refresh_from_db()
    return job


def _requeue_or_fail(job: Job, error: dict, *, count_attempt: bool = True) -> None:
    """Back to the queue while attempts remain, else FAILED with the escrow released (inside a transaction)."""
    job.assigned_miner_id = job.assigned_principal_id = job.unit_price = job.lease_expires_at = None
    if count_attempt and job.attempts >= job.max_attempts:
        job.state, job.finished_at, job.error = JobState.FAILED, timezone.now(), error
        _release_on_commit(job.id)
    else:
        job.state, job.dispatched_at = JobState.QUEUED, None
        job_dispatch_on_commit(job.id)
    job.save()


def job_fail(*, miner: MinerView, job_id: UUID, code: str, message: str, retryable: bool) -> Job:
    error = {"code": code, "message": message[:2000], "miner_id": str(miner.id)}
    with transaction.atomic(using=DB):
        job, attempt = _job_held_by(miner, job_id)
        if attempt.outcome == "failed":
            return job  # the same report again
        if not _holding(job, miner):
            raise Conflict(f"this miner's lease on job {job_id} was lost (the job is {job.state})", code="lease_lost")
        _attempt_end(attempt, "failed", error)
        if retryable:
            _requeue_or_fail(job, error)
        else:
            job.state, job.finished_at, job.error, job.lease_expires_at = JobState.FAILED, timezone.now(), error, None
            job.save()
            _release_on_commit(job.id)
        transaction.on_commit(lambda: gpu.miner_counters_add(miner.id, failed=1), using=DB)
    return job


def job_cancel(*, client: PrincipalView, job_id: UUID) -> Job:
    with transaction.atomic(using=DB):
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None or (job.client_id != client.id and not client.is_admin):
            raise NotFound(f"no job {job_id}")
        if job.state in TERMINAL_STATES:
            raise Conflict(f"job {job_id} is already {job.state}", code="job_finished")
        if job.state == JobState.RUNNING:
            running = JobAttempt.objects.filter(job=job).order_by("-number").first()
            assert running is not None  # claiming a job makes its attempt in the same transaction
            _attempt_end(running, "canceled")
        job.state, job.finished_at, job.lease_expires_at = JobState.CANCELED, timezone.now(), None
        job.save()
        _release_on_commit(job.id)
    return job


def job_requeue(*, operator: PrincipalView, job_id: UUID) -> Job:
    """An admin sends a job back to the queue: one that is ASSIGNED or RUNNING loses its miner (the run ends
    as `requeued`, not counted as an attempt), one that is QUEUED is dispatched again. 409 once it ended."""
    if not operator.is_admin:
        raise NotFound(f"no job {job_id}")
    with transaction.atomic(using=DB):
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None:
            raise NotFound(f"no job {job_id}")
        if job.state not in (JobState.QUEUED, *HELD_STATES):
            raise Conflict(
                f"job {job_id} is {job.state}; only a queued, assigned or running job can be requeued",
                code="job_not_requeueable",
            )
        if job.state == JobState.RUNNING:
            running = JobAttempt.objects.filter(job=job).order_by("-number").first()
            assert running is not None  # claiming a job makes its attempt in the same transaction
            _attempt_end(running, "requeued", {"code": "requeued", "message": f"requeued by {operator.name}"})
        _requeue_or_fail(job, {"code": "requeued", "message": f"requeued by {operator.name}"}, count_attempt=False)
    return job


def leases_renew(*, miner_id: UUID, job_ids: list[UUID] | None) -> int:
    """Renews the leases of the miner's running jobs (those listed, when a list is given)."""
    jobs = Job.objects.filter(assigned_miner_id=miner_id, state=JobState.RUNNING)
    if job_ids is not None:
        jobs = jobs.filter(id__in=job_ids)
    lease = timezone.now() + timedelta(seconds=parameter_get("lease_timeout_s"))
    return jobs.update(lease_expires_at=lease, updated_at=timezone.now())


def jobs_requeue_for_miner(*, miner_id: UUID) -> int:
    """A miner leaves: its jobs go back to the queue (a run that had started counts as an attempt)."""
    requeued = 0
    for job_id in Job.objects.filter(assigned_miner_id=miner_id, state__in=HELD_STATES).values_list("id", flat=True):
        with transaction.atomic(using=DB):
            job = Job.objects.select_for_update().filter(id=job_id, assigned_miner_id=miner_id).first()
            if job is None or job.state not in HELD_STATES:
                continue
            if job.state == JobState.RUNNING:
                attempt = JobAttempt.objects.filter(job=job).order_by("-number").first()
                assert attempt is not None  # claiming a job makes its attempt in the same transaction
                _attempt_end(attempt, "miner_left")
            _requeue_or_fail(job, {"code": "miner_left", "message": "the miner deregistered"}, count_attempt=False)
            requeued += 1
    return requeued
