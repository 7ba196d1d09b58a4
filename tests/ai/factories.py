"""Jobs for tests: submitted, held and completed through the same services the API calls."""

from decimal import Decimal

from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete
from apps.ai.services.submit import JobRequest, job_submit
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories


def job(client, *, type="echo", payload=None, constraints=None, max_price="5", ttl=900, priority=0, key=""):
    request = JobRequest(
        type=type,
        payload=payload if payload is not None else {"hello": "world"},
        constraints=constraints or {},
        max_price=Decimal(max_price),
        ttl_seconds=ttl,
        priority=priority,
    )
    return job_submit(client=client, request=request, idempotency_key=key)


def completed_job():
    """A job a miner at 0.5 AIT claimed and completed, reporting 2 GPU-seconds (its completed view)."""
    miner = gpu_factories.miner(unit_price="0.5")
    client, _ = trading_factories.funded_client("100")
    submitted = job(client, max_price="5")
    job_claim(miner=miner)
    return job_complete(miner=miner, job_id=submitted.id, result={"ok": 1}, metrics={"gpu_seconds": 2})


def database_lost_at(real, number: int):
    """`real`, except that its number-th call raises what Django raises when a database goes away mid-request."""
    from django.db import OperationalError

    calls = {"n": 0}

    def call(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == number:
            raise OperationalError("the database went away")
        return real(*args, **kwargs)

    return call


def held_for(job_id, seconds: float = 3600) -> None:
    """The platform saw the job's current run start `seconds` ago (its claim moved back in time), so a
    result reported now is billed up to that many GPU-seconds: the lease's wall-clock time x its one GPU."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.ai.models import Job, JobAttempt

    started = timezone.now() - timedelta(seconds=seconds)
    Job.objects.filter(id=job_id).update(started_at=started)
    latest = JobAttempt.objects.filter(job_id=job_id).order_by("-number").values_list("id", flat=True).first()
    JobAttempt.objects.filter(id=latest).update(started_at=started)
