"""hermes with real processes: a client runs a two-step workflow from a file with the CLI on a real Celery GPU
worker, and a real miner worker installs and reports an edge replica."""

import json
import time
from datetime import datetime
from decimal import Decimal

import httpx
import pytest

from aitbc_site.parameters import CACHE_SECONDS
from apps.governance.facade import parameter_set
from apps.trading.selectors.ledger import account_balances
from tests.processes import wait_for
from tests.stack import stack_running

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases="__all__", transaction=True)]
ORIN = {"name": "NVIDIA Jetson AGX Orin", "uuid": "GPU-orin-e2e", "memory_mb": 62841, "compute_capability": "8.7"}


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with stack_running() as running:
        yield running


@pytest.fixture(autouse=True)
def quick_heartbeats():
    parameter_set("heartbeat_interval_s", 1)
    time.sleep(CACHE_SECONDS + 0.5)  # the stack's processes see a change within CACHE_SECONDS


def gpu_worker(stack, name: str) -> dict:
    miner = stack.principal("miner", name)
    process = stack.spawn(name, "miner", "worker", "--url", stack.gateway, "--key", miner["key"], "--unit-price", "0.5")
    headers = {"Authorization": f"Bearer {miner['key']}"}

    def online():
        response = httpx.get(f"{stack.gateway}/gpu/v1/miners/me", headers=headers)
        return response.status_code == 200 and response.json()["online"] and response.json()

    view = wait_for(online, 60, f"{name} to register and heartbeat")
    return {**miner, "miner_id": view["miner_id"], "process": process, "headers": headers}


def job(stack, key: str, job_id: str) -> dict:
    return httpx.get(f"{stack.gateway}/ai/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {key}"}).json()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_client_runs_a_two_step_workflow_from_a_file_and_both_jobs_run_in_order(stack, tmp_path):
    admin, client = stack.principal("admin", "ops"), stack.principal("client", "wf-client")
    assert stack.aitbc("wallet", "credit", client["principal_id"], "50", key=admin["key"]).returncode == 0
    worker = gpu_worker(stack, "wf-worker")
    spec = {
        "name": "two steps",
        "steps": [
            {"id": "first", "type": "sleep", "payload": {"seconds": 1}, "max_price": "5"},
            {"id": "second", "type": "echo", "payload": {"previous": {"$from": "first"}}, "max_price": "5",
             "depends_on": ["first"]},
        ],
    }  # fmt: skip
    path = tmp_path / "workflow.json"
    path.write_text(json.dumps(spec))
    try:
        done = stack.aitbc("workflow", "run", str(path), "--wait", "--timeout", "120", key=client["key"], timeout=180)
    finally:
        worker["process"].stop()
    assert done.returncode == 0, done.stdout + done.stderr + worker["process"].output()
    progress = done.stderr.splitlines()
    second_submitted = next(i for i, line in enumerate(progress) if line.startswith("step second:") and "(job" in line)
    first_completed = next(i for i, line in enumerate(progress) if line.startswith("step first: COMPLETED"))
    assert first_completed < second_submitted
    assert progress[-1].startswith("step second: COMPLETED")
    workflow_id = done.stdout.split()[1]

    status = stack.aitbc("workflow", "status", workflow_id, "--json", key=client["key"])
    view = json.loads(status.stdout)
    assert view["status"] == "COMPLETED"
    first, second = (job(stack, client["key"], s["job_id"]) for s in view["steps"])
    assert first["assigned_miner_id"] == second["assigned_miner_id"] == worker["miner_id"]
    assert at(second["requested_at"]) >= at(first["finished_at"])  # submitted only once the first completed
    assert at(second["started_at"]) >= at(first["finished_at"])
    result = httpx.get(
        f"{stack.gateway}/ai/v1/jobs/{second['job_id']}/result", headers={"Authorization": f"Bearer {client['key']}"}
    ).json()
    assert result["result"] == {"echo": {"previous": {"slept_seconds": 1}}}
    paid = Decimal(first["price"]) + Decimal(second["price"])
    balances = account_balances(client["principal_id"])
    assert (balances["balance"], balances["held"]) == (Decimal(50) - paid, 0)


def test_a_real_miner_worker_installs_and_reports_an_edge_replica(stack, edge_profiles):
    client = stack.principal("client", "edge-client")
    worker = gpu_worker(stack, "edge-worker")
    try:
        caps = httpx.get(f"{stack.gateway}/gpu/v1/miners/me", headers=worker["headers"]).json()["capabilities"]
        caps["gpus"] = [ORIN]  # this host reports a Jetson AGX Orin: an edge GPU
        put = httpx.put(
            f"{stack.gateway}/gpu/v1/miners/{worker['miner_id']}/capabilities",
            json={"capabilities": caps},
            headers=worker["headers"],
        )
        assert put.status_code == 200, put.text
        created = stack.aitbc("hermes", "deployments", "create", "matmul", "--wait", "--json", key=client["key"])
        missing = stack.aitbc("hermes", "deployments", "create", "no-such-runner", "--wait", "--json",
                              key=client["key"])  # fmt: skip
    finally:
        worker["process"].stop()
    assert created.returncode == 0, created.stderr + worker["process"].output()
    deployment = json.loads(created.stdout)
    assert deployment["status"] == "RUNNING"
    [replica] = deployment["replica_states"]
    assert (replica["miner_id"], replica["state"], replica["runner_version"]) == (
        worker["miner_id"],
        "INSTALLED",
        "built-in",
    )
    assert replica["profile"] == "Jetson AGX Orin"

    failed = json.loads(missing.stdout)
    assert failed["status"] == "DEGRADED"
    [replica] = failed["replica_states"]
    assert replica["state"] == "FAILED"
    assert replica["reason"].startswith("no runner 'no-such-runner' on this host (it has echo, matmul, multimodal")
