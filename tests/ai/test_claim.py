import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from apps.ai.models import Job, JobAttempt, JobState
from apps.ai.services.claim import job_claim
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_fitting_miner_claims_a_queued_job_which_becomes_running_under_a_lease():
    miner = gpu_factories.miner(unit_price="0.01")
    client, _ = trading_factories.funded_client()
    submitted = ai_factories.job(client)
    claimed = job_claim(miner=miner)
    assert claimed.id == submitted.id
    assert claimed.state == JobState.RUNNING
    assert claimed.assigned_miner_id == miner.id
    assert claimed.attempts == 1
    assert claimed.lease_expires_at > timezone.now()
    assert job_claim(miner=gpu_factories.miner()) is None  # never held by two miners


SLEEP = {"type": "sleep", "payload": {"seconds": 60}}


@pytest.mark.parametrize(
    ("job_kwargs", "miner_kwargs"),
    [
        ({"constraints": {"region": "us"}}, {"region": "eu"}),
        ({"constraints": {"gpu_model": "A100"}}, {}),
        ({"constraints": {"min_vram_gb": 96}}, {}),
        ({"constraints": {"cuda": "13.1"}}, {"cuda": "13.0"}),
        ({"constraints": {"models": ["llama-3-8b"]}}, {"models": ("mistral-7b",)}),
        (SLEEP, {"runners": ("echo",)}),
        (SLEEP, {"unit_price": "10"}),
        ({"constraints": {"gpu_model": "H100"}}, {"gpus": ()}),
    ],
)
def test_a_miner_missing_any_constraint_gets_nothing(job_kwargs, miner_kwargs):
    miner = gpu_factories.miner(**miner_kwargs)
    client, _ = trading_factories.funded_client()
    ai_factories.job(client, **job_kwargs)
    assert job_claim(miner=miner) is None


def test_a_miner_meeting_every_constraint_gets_the_job():
    miner = gpu_factories.miner(region="us", models=("llama-3-8b",))
    client, _ = trading_factories.funded_client()
    constraints = {"region": "us", "gpu_model": "H100", "min_vram_gb": 64, "cuda": "12.4", "models": ["llama-3-8b"]}
    job = ai_factories.job(client, constraints=constraints)
    assert job_claim(miner=miner).id == job.id


def test_jobs_are_claimed_oldest_first_within_priority():
    miner = gpu_factories.miner(concurrency=10)
    client, _ = trading_factories.funded_client()
    old, new = ai_factories.job(client), ai_factories.job(client)
    urgent = ai_factories.job(client, priority=5)
    assert [job_claim(miner=miner).id for _ in range(3)] == [urgent.id, old.id, new.id]


def test_a_miner_with_no_free_slot_gets_nothing():
    miner = gpu_factories.miner(concurrency=1)
    client, _ = trading_factories.funded_client()
    ai_factories.job(client)
    ai_factories.job(client)
    assert job_claim(miner=miner) is not None
    assert job_claim(miner=miner) is None


def test_an_expired_job_is_not_claimed():
    miner = gpu_factories.miner()
    client, _ = trading_factories.funded_client()
    job = ai_factories.job(client)
    Job.objects.filter(id=job.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert job_claim(miner=miner) is None


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_two_miners_racing_for_200_jobs_never_take_one_twice():
    client, _ = trading_factories.funded_client("1000")
    submitted = {ai_factories.job(client, max_price="1").id for _ in range(200)}
    miners = [gpu_factories.miner(concurrency=500), gpu_factories.miner(concurrency=500)]
    taken: dict = {m.id: [] for m in miners}
    start = threading.Barrier(len(miners))

    def race(miner):
        try:
            start.wait()
            while (job := job_claim(miner=miner)) is not None:
                taken[miner.id].append(job.id)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=race, args=(m,)) for m in miners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    claims = [job_id for ids in taken.values() for job_id in ids]
    assert Counter(claims).most_common(1)[0][1] == 1
    assert set(claims) == submitted
    assert JobAttempt.objects.count() == 200
