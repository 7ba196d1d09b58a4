"""Runs of real jobs that end each way the platform records them, through the services that record them: the
miner completes it, reports a failure, lets its lease run out, holds it past its TTL, or deregisters mid-run."""

from datetime import timedelta

from django.utils import timezone

from apps.accounts.facade import PrincipalView
from apps.ai.models import Job, JobAttempt
from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_cancel, job_complete, job_fail
from apps.ai.services.sweep import jobs_sweep
from apps.gpu.models import Miner
from apps.gpu.services.miners import miner_deregister, miner_register
from tests.ai import factories as ai_factories


def _registered_again(miner_id) -> None:
    """The miner that deregistered registers again, exactly as it was."""
    again = Miner.objects.get(id=miner_id)
    miner_register(
        principal=PrincipalView(id=again.principal_id, name=again.name, role="miner"),
        region=again.region,
        concurrency=again.concurrency,
        capabilities=again.capabilities,
        unit_price=again.unit_price,
        name=again.name,
        mode=again.mode,
    )


def _completed(miner, client, job) -> None:
    job_complete(miner=miner, job_id=job.id, result={"ok": True}, metrics={"gpu_seconds": 1})


def _failed(miner, client, job) -> None:
    job_fail(miner=miner, job_id=job.id, code="boom", message="the runner crashed", retryable=False)


def _lease_lost(miner, client, job) -> None:
    """The miner goes quiet on the job's last attempt: the sweep finds its lease run out."""
    Job.objects.filter(id=job.id).update(lease_expires_at=timezone.now() - timedelta(seconds=1), max_attempts=1)
    assert jobs_sweep()["leases_expired"] == 1


def _expired(miner, client, job) -> None:
    """The miner keeps renewing its lease but is still running the job at its TTL."""
    Job.objects.filter(id=job.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert jobs_sweep()["ttls_expired"] == 1


def _miner_left(miner, client, job) -> None:
    """The miner deregisters mid-run and registers again; the job, back in the queue, is then canceled."""
    assert miner_deregister(miner=Miner.objects.get(id=miner.id)) == 1
    _registered_again(miner.id)
    job_cancel(client=client, job_id=job.id)


ENDINGS = {
    "completed": _completed,
    "failed": _failed,
    "lease_lost": _lease_lost,
    "expired": _expired,
    "miner_left": _miner_left,
}


def run(miner, client, outcome: str) -> JobAttempt:
    """One job of `client`, claimed by `miner` and ended the way `outcome` (a key of ENDINGS) names."""
    job = ai_factories.job(client)
    assert job_claim(miner=miner).id == job.id
    ENDINGS[outcome](miner, client, job)
    attempt = JobAttempt.objects.get(job_id=job.id)
    assert attempt.outcome == outcome
    return attempt


def runs(miner, client, *outcomes: str) -> None:
    for outcome in outcomes:
        run(miner, client, outcome)
