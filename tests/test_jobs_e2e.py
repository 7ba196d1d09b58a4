"""The life of a job with real processes: the stack, a Celery GPU worker or a polling miner, the CLI."""

import json
import os
import signal
import time
from datetime import datetime
from decimal import Decimal

import httpx
import pytest
from celery import Celery
from kombu.exceptions import OperationalError

from aitbc_site.money import quantize
from aitbc_site.parameters import CACHE_SECONDS
from apps.governance.facade import parameter_set
from apps.gpu.services.broker import broker_user_name
from apps.trading.models import Entry
from apps.trading.selectors.ledger import account_balances, earnings_of
from tests.processes import wait_for
from tests.stack import miner_started, stack_running

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases="__all__", transaction=True)]


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with stack_running() as running:
        yield running


@pytest.fixture(autouse=True)
def quick_leases():
    """Heartbeats every second and leases of 4 s, so that a lost worker is noticed within seconds."""
    for name, value in {"heartbeat_interval_s": 1, "lease_timeout_s": 4, "assign_timeout_s": 3}.items():
        parameter_set(name, value)
    time.sleep(CACHE_SECONDS + 0.5)  # the stack's processes see a change within CACHE_SECONDS


@pytest.fixture
def people(stack):
    admin, client = stack.principal("admin", "ops"), stack.principal("client", "alice")
    credited = stack.aitbc("wallet", "credit", client["principal_id"], "50", key=admin["key"])
    assert credited.returncode == 0, credited.stderr
    return {"admin": admin, "client": client}


def job_view(stack, key: str, job_id: str) -> dict:
    return httpx.get(f"{stack.gateway}/ai/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {key}"}).json()


def submitted_and_paid(stack, people, miner, job_type: str, payload: dict) -> dict:
    """Submits through the CLI, waits, verifies the receipt and checks both balances against it."""
    client = people["client"]
    done = stack.aitbc("job", "submit", "--type", job_type, "--payload", json.dumps(payload), "--max-price", "5",
                       "--wait", "--timeout", "90", "--json", key=client["key"])  # fmt: skip
    assert done.returncode == 0, done.stderr + miner["process"].output()
    view = json.loads(done.stdout)
    assert view["state"] == "COMPLETED"
    assert view["assigned_miner_id"] == miner["miner_id"]

    checked = stack.aitbc("job", "receipt", view["job_id"], "--verify", "--json", key=client["key"])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    verified = json.loads(checked.stdout)
    assert verified["valid"] is True
    receipt = verified["receipt"]
    price, fee = Decimal(receipt["price"]), Decimal(receipt["fee"])
    assert price > 0
    # an honest miner's own GPU-seconds fit inside the lease the platform saw, so they are billed as reported
    billed = Decimal(receipt["billed_units"])
    assert receipt["reported_units"] == receipt["billed_units"] == view["billed_units"] == view["reported_units"]
    held = datetime.fromisoformat(receipt["completed_at"]) - datetime.fromisoformat(receipt["started_at"])
    assert 0 < billed <= Decimal(str(held.total_seconds()))
    assert price == min(quantize(billed * Decimal(receipt["unit_price"])), Decimal(5))
    assert account_balances(client["principal_id"])["balance"] == Decimal(50) - price
    assert account_balances(client["principal_id"])["held"] == 0
    assert account_balances(miner["principal_id"])["balance"] == price - fee
    return view


def test_a_polling_miner_runs_a_matmul_job_submitted_from_the_cli_and_is_paid(stack, people):
    miner = miner_started(stack, "run", "0.5", "poller")
    try:
        view = submitted_and_paid(stack, people, miner, "matmul", {"n": 128, "repeat": 2})
    finally:
        miner["process"].stop()
    assert view["result"]["tflops"] > 0
    assert view["result"]["n"] == 128


def test_a_celery_gpu_worker_runs_a_job_woken_through_its_queue_and_is_paid(stack, people):
    miner = miner_started(stack, "worker", "0.5", "gpu-worker")
    try:
        view = submitted_and_paid(stack, people, miner, "sleep", {"seconds": 1})
    finally:
        miner["process"].stop()
    assert view["result"] == {"slept_seconds": 1}
    assert Decimal(1) <= Decimal(view["billed_units"]) < Decimal(5)  # billed by the second it slept
    assert "gpu.execute_next" in miner["process"].output()


def test_a_gpu_worker_killed_mid_job_loses_no_job_and_the_client_pays_once(stack, people):
    cheap = miner_started(stack, "worker", "0.01", "cheap-worker")
    dear = miner_started(stack, "worker", "0.02", "dear-worker")
    client = people["client"]
    try:
        submitted = stack.aitbc("job", "submit", "--type", "sleep", "--payload", '{"seconds": 6}', "--max-price", "5",
                                "--json", key=client["key"])  # fmt: skip
        job_id = json.loads(submitted.stdout)["job_id"]
        running = wait_for(lambda: job_view(stack, client["key"], job_id)["state"] == "RUNNING", 30, "the job to run")
        assert running
        assert job_view(stack, client["key"], job_id)["assigned_miner_id"] == cheap["miner_id"]

        os.killpg(cheap["process"].pid, signal.SIGKILL)

        finished = wait_for(
            lambda: (view := job_view(stack, client["key"], job_id))["state"] in ("COMPLETED", "FAILED") and view,
            90,
            "the job to finish on the other worker",
        )
    finally:
        cheap["process"].stop()
        dear["process"].stop()
    assert finished["state"] == "COMPLETED"
    assert finished["assigned_miner_id"] == dear["miner_id"]
    assert finished["attempts"] == 2
    # billed the second run alone (its claim to its result), which slept its 6 s, at the dear worker's price
    second_run = datetime.fromisoformat(finished["finished_at"]) - datetime.fromisoformat(finished["started_at"])
    assert Decimal(6) <= Decimal(finished["billed_units"]) <= Decimal(str(second_run.total_seconds()))
    assert Decimal(finished["price"]) == quantize(Decimal(finished["billed_units"]) * Decimal("0.02"))
    assert Entry.objects.filter(kind="job_payment", reference=job_id).count() == 1
    assert earnings_of(cheap["principal_id"])["total_earned"] == 0
    assert earnings_of(dear["principal_id"])["total_earned"] == Decimal(finished["price"]) - Decimal(finished["fee"])
    assert account_balances(client["principal_id"])["balance"] == Decimal(50) - Decimal(finished["price"])


@pytest.mark.ledger_tampered
def test_after_jobs_and_trades_the_chain_verifies_and_an_edited_row_is_named(stack, people, tmp_path):
    from apps.trading.models import Posting, Receipt

    miner = miner_started(stack, "run", "0.5", "chain-miner")
    try:
        submitted_and_paid(stack, people, miner, "echo", {"hello": "chain"})
    finally:
        miner["process"].stop()
    buyer = people["client"]["key"]
    request = json.loads(
        stack.aitbc("trade", "request", "--title", "GPU hours", "--budget", "10", "--json", key=buyer).stdout
    )
    offered = stack.aitbc("trade", "offer", request["request_id"], "--price", "4", "--json", key=miner["key"])
    agreement = json.loads(
        stack.aitbc("trade", "accept", json.loads(offered.stdout)["match_id"], "--json", key=buyer).stdout
    )
    assert stack.aitbc("trade", "settle", agreement["agreement_id"], key=buyer).returncode == 0

    def verified():
        checked = stack.aitbc("explorer", "verify", "--json", key=buyer)
        report = json.loads(checked.stdout)
        return report["valid"] and report["unsealed_receipts"] == 0 and report["unsealed_transactions"] == 0 and report

    report = wait_for(verified, 30, "beat to seal every receipt and transaction")
    assert report["sealed_receipts"] == Receipt.objects.count() == 1

    chain_file = tmp_path / "chain.json"
    assert stack.aitbc("explorer", "export", str(chain_file), key=buyer).returncode == 0
    public_key = json.loads(chain_file.read_text())["keys"][0]["public_key"]
    offline = stack.aitbc("explorer", "verify", "--file", str(chain_file), "--public-key", public_key, key=buyer)
    assert offline.returncode == 0, offline.stdout + offline.stderr

    payment = Posting.objects.filter(entry__kind="trade_payment", amount__gt=0).first()
    Posting.objects.filter(id=payment.id).update(amount=payment.amount + 1)
    broken = stack.aitbc("explorer", "verify", key=buyer)
    assert broken.returncode == 1
    assert f"INVALID at block {payment.entry.block_height}" in broken.stdout
    assert str(payment.entry_id) in broken.stdout


@pytest.mark.skipif(not os.environ.get("AITBC_REDIS_URL"), reason="broker users are Redis ACL users")
def test_a_miner_with_its_own_broker_user_cannot_stop_the_control_plane_and_flower_still_shows_it(stack, people):
    miner = miner_started(stack, "worker", "0.5", "acl-worker")
    intruder = stack.principal("miner", "intruder")
    body = {"capabilities": {"runners": ["echo"]}, "unit_price": "0.01", "mode": "celery"}
    headers = {"Authorization": f"Bearer {intruder['key']}"}
    registered = httpx.post(f"{stack.gateway}/gpu/v1/miners/register", json=body, headers=headers)
    app = Celery(broker=registered.json()["broker_url"], broker_connection_retry=False)
    try:
        with pytest.raises(OperationalError, match="no permissions"):
            app.control.shutdown()  # would reach every worker, the control plane's included
        with pytest.raises(OperationalError, match="no permissions"):
            app.send_task("ai.sweep_jobs", queue="control")

        view = submitted_and_paid(stack, people, miner, "echo", {"text": "still here"})
        flower_auth = ("admin", (stack.home / "flower_password").read_text().strip())

        def gpu_worker_in_flower():
            workers = httpx.get(f"{stack.flower}/workers?json=1", auth=flower_auth).json()["data"]
            return any(w["hostname"].startswith(f"gpu-{miner['miner_id']}@") and w["status"] for w in workers)

        assert wait_for(gpu_worker_in_flower, 30, "Flower to show the GPU worker")
    finally:
        miner["process"].stop()
    assert view["result"] == {"echo": {"text": "still here"}}
    assert f"redis://{broker_user_name(miner['miner_id'])}:**@" in miner["process"].output()  # as its own user
    assert stack.ctl("status", "worker").split()[1] == "RUNNING"
