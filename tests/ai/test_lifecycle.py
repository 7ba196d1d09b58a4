from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import OperationalError
from django.utils import timezone

from aitbc_client.canonical import receipt_verify
from aitbc_site.errors import Conflict, NotFound
from apps.ai.models import Job, JobState
from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_cancel, job_complete, job_fail, leases_renew
from apps.ai.services.sweep import jobs_sweep
from apps.ai.tasks import settle_job
from apps.governance.facade import parameter_set
from apps.gpu.models import Miner
from apps.gpu.services.miners import miner_deregister
from apps.trading import facade as trading_facade
from apps.trading import signing
from apps.trading.facade import account_balances, earnings_of, receipt_get
from apps.trading.models import AccountKind, Entry, Hold
from apps.trading.services.ledger import system_account
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def running_job(*, max_price="5", unit_price="0.5", held_s=3600, **job_kwargs):
    """A claimed job whose run the platform saw start `held_s` ago (None: just now)."""
    miner = gpu_factories.miner(unit_price=unit_price)
    client, _ = trading_factories.funded_client("100")
    job = ai_factories.job(client, max_price=max_price, **job_kwargs)
    assert job_claim(miner=miner).id == job.id
    if held_s is not None:
        ai_factories.held_for(job.id, held_s)
    return client, miner, job


def test_completion_pays_the_miner_price_minus_fee_and_refunds_the_rest():
    client, miner, job = running_job(max_price="5", unit_price="0.5")
    done = job_complete(miner=miner, job_id=job.id, result={"ok": True}, metrics={"gpu_seconds": 3})
    assert done.state == JobState.COMPLETED
    assert (done.units, done.price, done.fee) == (Decimal(3), Decimal("1.5"), Decimal("0.0375"))
    assert account_balances(client.id)["balance"] == Decimal("98.5")
    assert account_balances(client.id)["held"] == 0
    assert account_balances(miner.principal_id)["balance"] == Decimal("1.4625")
    assert system_account(AccountKind.FEES).balance == Decimal("0.0375")
    assert earnings_of(miner.principal_id)["total_earned"] == Decimal("1.4625")


def test_the_price_is_capped_at_max_price():
    client, miner, job = running_job(max_price="2", unit_price="0.5")
    done = job_complete(miner=miner, job_id=job.id, result={}, metrics={"gpu_seconds": 100})
    assert done.price == Decimal(2)
    assert account_balances(client.id)["balance"] == Decimal(98)


def test_the_receipt_is_signed_and_verifies_with_the_published_key_only():
    client, miner, job = running_job()
    done = job_complete(miner=miner, job_id=job.id, result={"answer": 42}, metrics={"gpu_seconds": 2})
    receipt = receipt_get(done.receipt_id)
    assert receipt["job_id"] == str(job.id)
    assert receipt["miner_id"] == str(miner.id)
    assert receipt["client_id"] == str(client.id)
    assert (receipt["units"], receipt["unit_type"], receipt["price"]) == ("2.00000000", "gpu_seconds", "1.00000000")
    assert receipt["fee"] == "0.02500000"
    assert receipt_verify(receipt, signing.published_keys()) is None
    forged = {**receipt, "price": "0.00000001"}
    assert receipt_verify(forged, signing.published_keys()) == "the signature does not match the receipt"
    assert "not one of the platform's published keys" in receipt_verify(receipt, [])


def test_reporting_the_result_again_returns_the_same_answer_and_moves_no_money():
    client, miner, job = running_job()
    first = job_complete(miner=miner, job_id=job.id, result={"a": 1}, metrics={"gpu_seconds": 1})
    again = job_complete(miner=miner, job_id=job.id, result={"a": 1}, metrics={"gpu_seconds": 1})
    assert again.receipt_id == first.receipt_id
    assert Entry.objects.filter(reference=str(job.id)).count() == 1


def test_a_miner_that_never_held_the_job_gets_404():
    _, _, job = running_job()
    with pytest.raises(NotFound):
        job_complete(miner=gpu_factories.miner(), job_id=job.id, result={}, metrics={"gpu_seconds": 1})
    assert Job.objects.get(id=job.id).state == JobState.RUNNING


def test_a_miner_whose_lease_was_lost_gets_409_and_is_not_paid():
    client, miner, job = running_job()
    Job.objects.filter(id=job.id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    jobs_sweep()
    with pytest.raises(Conflict, match="lease"):
        job_complete(miner=miner, job_id=job.id, result={}, metrics={"gpu_seconds": 1})
    assert account_balances(miner.principal_id)["balance"] == 0


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_a_settlement_task_run_three_times_moves_the_money_once(monkeypatch):
    client, miner, job = running_job(unit_price="1")
    from apps.trading import facade as trading

    def crash(settlement):
        raise ConnectionError("the trading database went away")

    with monkeypatch.context() as patched:
        patched.setattr(trading, "job_settle", crash)
        with pytest.raises(ConnectionError):
            job_complete(miner=miner, job_id=job.id, result={}, metrics={"gpu_seconds": 2})
    completed = Job.objects.get(id=job.id)
    assert (completed.state, completed.receipt_id) == (JobState.COMPLETED, None)

    receipts = {settle_job.apply(args=[str(job.id)]).get() for _ in range(3)}
    assert len(receipts) == 1
    assert Entry.objects.filter(kind="job_payment", reference=str(job.id)).count() == 1
    assert account_balances(miner.principal_id)["balance"] == Decimal("1.95")
    assert account_balances(client.id)["balance"] == Decimal(98)


def test_a_retryable_failure_requeues_and_the_last_attempt_fails_and_refunds(committed):
    parameter_set("job_max_attempts", 2)
    client, miner, job = running_job()
    oom = {"miner": miner, "job_id": job.id, "code": "oom", "message": "out of memory", "retryable": True}
    assert committed(job_fail, **oom).state == JobState.QUEUED
    assert job_claim(miner=miner).attempts == 2
    failed = committed(job_fail, **oom)
    assert failed.state == JobState.FAILED
    assert failed.error["code"] == "oom"
    assert account_balances(client.id) | {"principal_id": None} == {
        "principal_id": None,
        "balance": Decimal(100),
        "held": 0,
        "available": Decimal(100),
    }


def test_a_failure_that_is_not_retryable_fails_at_once_and_refunds(committed):
    client, miner, job = running_job()
    failed = committed(job_fail, miner=miner, job_id=job.id, code="bad", message="no", retryable=False)
    assert failed.state == JobState.FAILED
    assert account_balances(client.id)["held"] == 0
    assert Miner.objects.get(id=miner.id).jobs_failed == 1


def test_cancel_refunds_and_a_second_cancel_is_409(committed):
    client, miner, job = running_job()
    assert committed(job_cancel, client=client, job_id=job.id).state == JobState.CANCELED
    assert account_balances(client.id)["held"] == 0
    with pytest.raises(Conflict, match="already CANCELED"):
        job_cancel(client=client, job_id=job.id)
    with pytest.raises(Conflict, match="lease"):
        job_complete(miner=miner, job_id=job.id, result={}, metrics={"gpu_seconds": 1})


def test_another_client_cannot_cancel_my_job():
    _, _, job = running_job()
    stranger, _ = trading_factories.funded_client()
    with pytest.raises(NotFound):
        job_cancel(client=stranger, job_id=job.id)


def test_a_lost_lease_puts_the_job_back_in_the_queue_for_another_miner():
    client, miner, job = running_job()
    Job.objects.filter(id=job.id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert jobs_sweep()["leases_expired"] == 1
    requeued = Job.objects.get(id=job.id)
    assert (requeued.state, requeued.attempts, requeued.assigned_miner_id) == (JobState.QUEUED, 1, None)
    other = gpu_factories.miner()
    assert job_claim(miner=other).attempts == 2


def test_a_lost_lease_on_the_last_attempt_fails_the_job_and_refunds(committed):
    parameter_set("job_max_attempts", 1)
    client, miner, job = running_job()
    Job.objects.filter(id=job.id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    committed(jobs_sweep)
    assert Job.objects.get(id=job.id).state == JobState.FAILED
    assert account_balances(client.id)["held"] == 0


def test_a_job_past_its_ttl_expires_and_is_refunded(committed):
    client, _ = trading_factories.funded_client()
    job = ai_factories.job(client)
    Job.objects.filter(id=job.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert committed(jobs_sweep)["ttls_expired"] == 1
    assert Job.objects.get(id=job.id).state == JobState.EXPIRED
    assert account_balances(client.id)["held"] == 0


def test_heartbeats_renew_the_leases_of_the_listed_jobs_only():
    miner = gpu_factories.miner()
    client, _ = trading_factories.funded_client()
    kept, dropped = ai_factories.job(client), ai_factories.job(client)
    job_claim(miner=miner), job_claim(miner=miner)
    Job.objects.update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    assert leases_renew(miner_id=miner.id, job_ids=[kept.id]) == 1
    assert Job.objects.get(id=kept.id).lease_expires_at > Job.objects.get(id=dropped.id).lease_expires_at


def test_a_deregistered_miner_s_jobs_go_back_to_the_queue():
    client, miner, job = running_job()
    assert miner_deregister(miner=Miner.objects.get(id=miner.id)) == 1
    assert Job.objects.get(id=job.id).state == JobState.QUEUED


def test_the_sweep_drops_a_pending_job_without_escrow_and_releases_escrow_of_a_finished_job(committed):
    client, _ = trading_factories.funded_client()
    queued = ai_factories.job(client)
    old = timezone.now() - timedelta(minutes=5)
    orphan = Job.objects.create(
        client_id=client.id, type="echo", max_price=1, expected_units=1, ttl_seconds=60, expires_at=timezone.now(),
        input_sha256="0" * 64,
    )  # fmt: skip
    Job.objects.filter(id=orphan.id).update(created_at=old)
    Job.objects.filter(id=queued.id).update(state=JobState.CANCELED)  # as if its release had been lost
    Hold.objects.filter(key=f"job:{queued.id}").update(created_at=old)
    report = committed(jobs_sweep)
    assert report["pending_dropped"] == 1
    assert not Job.objects.filter(id=orphan.id).exists()
    assert report["released"] == 1
    assert account_balances(client.id)["held"] == 0


def test_a_submit_retried_after_failing_between_its_steps_finishes_the_job_and_holds_escrow_once(monkeypatch):
    client, _ = trading_factories.funded_client("10")
    monkeypatch.setattr(
        trading_facade, "job_escrow_hold", ai_factories.database_lost_at(trading_facade.job_escrow_hold, 1)
    )
    with pytest.raises(OperationalError):
        ai_factories.job(client, max_price="2", key="retry-me")
    job = ai_factories.job(client, max_price="2", key="retry-me")
    assert job.state == JobState.QUEUED
    assert Job.objects.filter(client_id=client.id).count() == 1
    assert account_balances(client.id)["held"] == Decimal("2")
    Job.objects.filter(id=job.id).update(created_at=timezone.now() - timedelta(minutes=5))
    jobs_sweep()
    assert Job.objects.get(id=job.id).state == JobState.QUEUED


def test_the_sweep_queues_a_pending_job_whose_escrow_was_placed_late_rather_than_dropping_it(committed):
    client, _ = trading_factories.funded_client()
    job = ai_factories.job(client, max_price="1")
    Job.objects.filter(id=job.id).update(state=JobState.PENDING, created_at=timezone.now() - timedelta(minutes=5))
    # its hold is recent: placed long after the row, just before a crash kept the job from being queued
    report = jobs_sweep()
    assert (report["pending_queued"], report["pending_dropped"]) == (1, 0)
    assert Job.objects.get(id=job.id).state == JobState.QUEUED


def test_a_job_the_sweep_cannot_settle_does_not_keep_it_from_releasing_other_escrow(committed, monkeypatch):
    from apps.ai.services import sweep

    client, miner, done = running_job()
    committed(job_complete, miner=miner, job_id=done.id, result={"ok": True}, metrics={"gpu_seconds": 1})
    old = timezone.now() - timedelta(minutes=5)
    Job.objects.filter(id=done.id).update(receipt_id=None, finished_at=old)  # as if its settlement was lost
    canceled = ai_factories.job(client, max_price="2")
    Job.objects.filter(id=canceled.id).update(state=JobState.CANCELED)  # as if its release had been lost
    Hold.objects.filter(key=f"job:{canceled.id}").update(created_at=old)

    def trading_refuses(job_id):
        raise OperationalError("the trading database went away")

    monkeypatch.setattr(sweep, "job_settle_completed", trading_refuses)
    report = committed(jobs_sweep)
    assert (report["settled"], report["released"]) == (0, 1)
    assert Hold.objects.get(key=f"job:{canceled.id}").status == "RELEASED"
