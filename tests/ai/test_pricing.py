"""The price is what the platform measured: billed GPU-seconds are at most the lease's wall-clock time x the
GPUs the job holds, and the unit price is fixed when the job is assigned, whatever the miner registers later."""

from datetime import datetime
from decimal import Decimal

import pytest

from aitbc_client.canonical import receipt_verify
from aitbc_site.errors import Invalid
from aitbc_site.money import quantize
from apps.ai.models import Job, JobState
from apps.ai.services import dispatch
from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete
from apps.ai.services.submit import JobRequest, job_submit
from apps.trading import signing
from apps.trading.facade import account_balances, earnings_of, receipt_get
from tests.accounts import factories as accounts_factories
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def wakes(monkeypatch):
    """The GPU workers dispatch woke, in order (no broker message is sent)."""
    woken = []
    monkeypatch.setattr(dispatch, "gpu_worker_wake", lambda miner_id, job_id: woken.append((miner_id, job_id)))
    return woken


def test_a_miner_reporting_a_million_gpu_seconds_for_a_millisecond_job_is_billed_the_lease_time(api):
    """Given an echo job (max_price 5) that a miner at 0.5 AIT/GPU-s claims and answers at once, reporting
    1,000,000 GPU-seconds. Then it is billed the wall-clock time the platform saw between claim and result (one
    GPU), far below max_price; the client pays that, and the job and the signed receipt show both figures."""
    who, miner_key = accounts_factories.principal("miner")
    gpu_factories.miner(who=who, unit_price="0.5")
    client, client_key = trading_factories.funded_client("100")
    job = ai_factories.job(client, max_price="5")
    claimed = api("gpu", miner_key).post("/v1/miners/poll", {"max_wait_seconds": 0})
    assert claimed.status_code == 200 and claimed.json()["job_id"] == str(job.id)

    body = {"result": {"echo": "hi"}, "metrics": {"gpu_seconds": 1_000_000, "duration_ms": 1_000_000_000}}
    answer = api("gpu", miner_key).post(f"/v1/miners/{job.id}/result", body)
    assert answer.status_code == 200, answer.content

    done = Job.objects.get(id=job.id)
    lease = Decimal(str((done.finished_at - done.started_at).total_seconds()))
    assert done.state == JobState.COMPLETED
    assert done.reported_units == Decimal(1_000_000)
    assert 0 < done.units <= lease < 5  # the test's own round trip: seconds at most, never a million
    assert done.price == quantize(done.units * Decimal("0.5")) < Decimal("2.5")
    assert account_balances(client.id) == {**account_balances(client.id), "balance": 100 - done.price, "held": 0}
    assert earnings_of(who.id)["total_earned"] == done.price - done.fee

    receipt = receipt_get(done.receipt_id)
    assert receipt_verify(receipt, signing.published_keys()) is None
    assert receipt["reported_units"] == "1000000.00000000"
    assert receipt["billed_units"] == receipt["units"] == f"{done.units:f}"
    assert (receipt["unit_price"], receipt["price"]) == ("0.50000000", f"{done.price:f}")
    held = datetime.fromisoformat(receipt["completed_at"]) - datetime.fromisoformat(receipt["started_at"])
    assert Decimal(receipt["billed_units"]) <= Decimal(str(held.total_seconds()))  # checkable from the receipt

    view = api("ai", client_key).get(f"/v1/jobs/{job.id}").json()
    assert (view["reported_units"], view["billed_units"]) == ("1000000.00000000", f"{done.units:f}")
    assert (view["units"], view["unit_price"], view["price"]) == (f"{done.units:f}", "0.50000000", f"{done.price:f}")


def test_a_miner_reporting_less_than_the_lease_is_billed_what_it_reported():
    miner = gpu_factories.miner(unit_price="0.5")
    client, _ = trading_factories.funded_client("100")
    job = ai_factories.job(client, max_price="5")
    assert job_claim(miner=miner).id == job.id
    ai_factories.held_for(job.id, 10)  # the platform saw the run hold its GPU for 10 s
    done = job_complete(miner=miner, job_id=job.id, result={}, metrics={"gpu_seconds": 3})
    assert (done.reported_units, done.units, done.price) == (Decimal(3), Decimal(3), Decimal("1.5"))
    assert account_balances(client.id)["balance"] == Decimal("98.5")
    receipt = receipt_get(done.receipt_id)
    assert (receipt["reported_units"], receipt["billed_units"]) == ("3.00000000", "3.00000000")


def test_a_report_above_the_lease_is_clamped_to_it():
    miner = gpu_factories.miner(unit_price="0.5")
    client, _ = trading_factories.funded_client("100")
    job = ai_factories.job(client, max_price="5")
    assert job_claim(miner=miner).id == job.id
    ai_factories.held_for(job.id, 4)
    done = job_complete(miner=miner, job_id=job.id, result={}, metrics={"gpu_seconds": 100})
    assert done.reported_units == Decimal(100)
    assert Decimal(4) <= done.units < Decimal(5)  # 4 s before the result, plus the test's own few milliseconds
    assert done.price == quantize(done.units * Decimal("0.5"))


def test_a_miner_re_registering_at_a_higher_price_after_dispatch_is_paid_the_assignment_time_price(committed, wakes):
    """Given a GPU worker at 0.5 AIT/GPU-s that dispatch assigned a job to, which then re-registers at 100 (a price
    at which the job would not even fit its max_price). Then it still gets the job at 0.5, and is paid 0.5 x the
    GPU-seconds it ran."""
    who, _ = accounts_factories.principal("miner")
    cheap = gpu_factories.miner(who=who, unit_price="0.5", mode="celery")
    client, _ = trading_factories.funded_client("100")
    job = committed(ai_factories.job, client, max_price="5")
    assert wakes == [(cheap.id, job.id)]
    assigned = Job.objects.get(id=job.id)
    assert (assigned.state, assigned.assigned_miner_id, assigned.unit_price) == (
        JobState.ASSIGNED,
        cheap.id,
        Decimal("0.5"),
    )

    dear = gpu_factories.miner(who=who, unit_price="100", mode="celery")  # the same miner, registered again
    assert dear.id == cheap.id and dear.unit_price == Decimal(100)
    claimed = job_claim(miner=dear)
    assert (claimed.id, claimed.unit_price) == (job.id, Decimal("0.5"))
    ai_factories.held_for(job.id)
    done = job_complete(miner=dear, job_id=job.id, result={}, metrics={"gpu_seconds": 2})
    assert (done.unit_price, done.units, done.price, done.fee) == (
        Decimal("0.5"),
        Decimal(2),
        Decimal(1),
        Decimal("0.025"),
    )
    assert account_balances(client.id)["balance"] == Decimal(99)
    assert earnings_of(who.id)["total_earned"] == Decimal("0.975")
    assert receipt_get(done.receipt_id)["unit_price"] == "0.50000000"


def test_a_running_job_keeps_its_price_when_its_miner_re_registers_during_the_run():
    who, _ = accounts_factories.principal("miner")
    miner = gpu_factories.miner(who=who, unit_price="0.5")
    client, _ = trading_factories.funded_client("100")
    job = ai_factories.job(client, max_price="5")
    assert job_claim(miner=miner).unit_price == Decimal("0.5")  # a polling miner's claim is its assignment
    again = gpu_factories.miner(who=who, unit_price="2")
    ai_factories.held_for(job.id)
    assert job_complete(miner=again, job_id=job.id, result={}, metrics={"gpu_seconds": 2}).price == Decimal(1)


def test_a_claim_by_an_assigned_miner_that_no_longer_fits_does_not_get_the_job_which_goes_elsewhere(committed, wakes):
    """Given a job for region eu assigned to the cheaper of two eu GPU workers, which then re-registers in us.
    Then its claim gets nothing, the job goes back to the queue and dispatch assigns it to the other worker,
    which runs it at its own price."""
    who, _ = accounts_factories.principal("miner")
    first = gpu_factories.miner(who=who, unit_price="0.1", region="eu", mode="celery")
    second = gpu_factories.miner(unit_price="0.2", region="eu", mode="celery")
    client, _ = trading_factories.funded_client("100")
    job = committed(ai_factories.job, client, max_price="5", constraints={"region": "eu"})
    assert Job.objects.get(id=job.id).assigned_miner_id == first.id

    moved = gpu_factories.miner(who=who, unit_price="0.1", region="us", mode="celery")
    assert committed(job_claim, miner=moved) is None
    requeued = Job.objects.get(id=job.id)
    assert (requeued.state, requeued.assigned_miner_id, requeued.unit_price) == (
        JobState.ASSIGNED,
        second.id,
        Decimal("0.2"),
    )
    assert wakes == [(first.id, job.id), (second.id, job.id)]
    assert requeued.attempts == 0  # the unfit miner never ran it
    claimed = job_claim(miner=second)
    assert (claimed.id, claimed.unit_price) == (job.id, Decimal("0.2"))


def test_an_unfit_assigned_job_is_not_given_to_its_miner_even_with_no_other_miner():
    """Given a job assigned to a miner that since dropped the job's runner. Then its claim gets nothing and the
    job waits in the queue (no miner fits it now), its price unfixed."""
    who, _ = accounts_factories.principal("miner")
    miner = gpu_factories.miner(who=who, runners=("echo", "sleep"), mode="celery")
    client, _ = trading_factories.funded_client("100")
    job = ai_factories.job(client, type="sleep", payload={"seconds": 1}, max_price="5")
    assert dispatch.job_dispatch(job.id) == miner.id
    assert Job.objects.get(id=job.id).unit_price == Decimal("0.01")

    echo_only = gpu_factories.miner(who=who, runners=("echo",), mode="celery")
    assert job_claim(miner=echo_only) is None
    waiting = Job.objects.get(id=job.id)
    assert (waiting.state, waiting.assigned_miner_id, waiting.unit_price) == (JobState.QUEUED, None, None)


def test_a_quote_is_only_for_a_job_pinned_to_the_quoting_agents_miner():
    client, _ = trading_factories.funded_client("10")
    request = JobRequest(type="echo", max_price=Decimal(1), ttl_seconds=900, quoted_unit_price=Decimal("0.1"))
    with pytest.raises(Invalid, match="quoted_unit_price"):
        job_submit(client=client, request=request)
    assert not Job.objects.filter(client_id=client.id).exists()
    assert account_balances(client.id)["held"] == 0
