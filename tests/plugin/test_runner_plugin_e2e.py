"""A runner shipped as a pip package, with real processes: pip-installed for a miner's GPU worker only,
registered from the CLI by its sha256, it runs a client's job; edited after install, it is refused."""

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.processes import AITBC, Process, run_aitbc, wait_for
from tests.stack import stack_running

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases="__all__", transaction=True)]
SAMPLE = Path(__file__).parent / "sample_runner"
TEXT = "The cat and the hat sat on the mat"


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with stack_running() as running:
        yield running


def pip_installed(folder: Path) -> Path:
    """`pip install` of the sample plugin into a folder that only the miner's process puts on its path."""
    target = folder / "site-packages"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(SAMPLE)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    return target


def get(stack, service: str, path: str, key: str) -> dict:
    response = httpx.get(f"{stack.gateway}/{service}{path}", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    return response.json()


def published_and_installed(stack, tmp_path, name: str) -> dict:
    """A miner that pip-installs the plugin, registers it from the CLI and starts a GPU worker with it."""
    target = pip_installed(tmp_path)
    miner = stack.principal("miner", name)
    registered = run_aitbc(["plugin", "register", "--installed", "aitbc-wordcount-runner", "--path", str(target),
                            "--description", "counts words", "--url", stack.gateway, "--key", miner["key"], "--json"],
                           stack.env)  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    plugin = json.loads(registered.stdout)
    args = [*AITBC, "miner", "worker", "--url", stack.gateway, "--key", miner["key"], "--unit-price", "0.01"]
    process = Process(args, {**stack.env, "PYTHONPATH": str(target)}, stack.home / f"{name}.log")

    def online():
        response = httpx.get(f"{stack.gateway}/gpu/v1/miners/me", headers={"Authorization": f"Bearer {miner['key']}"})
        return response.status_code == 200 and response.json()["online"] and response.json()

    view = wait_for(online, 60, f"{name} to register and heartbeat")
    return {**miner, "plugin": plugin, "target": target, "process": process, "capabilities": view["capabilities"]}


@pytest.fixture
def client(stack):
    admin, client = stack.principal("admin", "ops"), stack.principal("client", "alice")
    assert stack.aitbc("wallet", "credit", client["principal_id"], "20", key=admin["key"]).returncode == 0
    return client


def test_a_pip_installed_runner_plugin_registered_by_sha256_runs_a_job_on_a_real_worker(stack, tmp_path, client):
    miner = published_and_installed(stack, tmp_path, "plugin-worker")
    try:
        assert miner["plugin"]["sha256"] == miner["capabilities"]["plugins"][0]["sha256"]
        assert miner["capabilities"]["plugins"][0]["status"] == "verified"
        assert "wordcount" in miner["capabilities"]["runners"]
        payload = json.dumps({"text": TEXT, "top": 2})
        done = stack.aitbc("job", "submit", "--type", "wordcount", "--payload", payload, "--max-price", "2",
                           "--wait", "--timeout", "90", "--json", key=client["key"])  # fmt: skip
        assert done.returncode == 0, done.stderr + miner["process"].output()
        analytics = json.loads(stack.aitbc("plugin", "analytics", "--json", key=client["key"]).stdout)
    finally:
        miner["process"].stop()
    view = json.loads(done.stdout)
    assert view["state"] == "COMPLETED"
    assert view["result"] == {"words": 9, "distinct": 7, "top": [["the", 3], ["cat", 1]]}
    row = next(i for i in analytics["items"] if i["name"] == "wordcount")
    assert row["jobs"] == {"completed": 1, "failed": 0, "completed_on_this_version": 1}
    assert row["installs"]["verified"] == 1


def test_a_plugin_edited_after_install_is_refused_on_the_miner_and_the_job_fails_saying_why(stack, tmp_path, client):
    miner = published_and_installed(stack, tmp_path, "tampered-worker")
    try:
        assert miner["capabilities"]["plugins"][0]["status"] == "verified"
        runner_file = miner["target"] / "aitbc_wordcount" / "runner.py"
        runner_file.write_text(runner_file.read_text() + "\nTAMPERED = True  # changed after it was registered\n")
        submitted = stack.aitbc("job", "submit", "--type", "wordcount", "--payload", json.dumps({"text": TEXT}),
                                "--max-price", "2", "--json", key=client["key"])  # fmt: skip
        job_id = json.loads(submitted.stdout)["job_id"]
        failed = wait_for(
            lambda: (job := get(stack, "ai", f"/v1/jobs/{job_id}", client["key"]))["state"] == "FAILED" and job,
            60,
            "the job to be refused",
        )
        installs = get(stack, "plugin", f"/v1/plugins/{miner['plugin']['plugin_id']}/installs", miner["key"])
        capabilities = get(stack, "gpu", "/v1/miners/me", miner["key"])["capabilities"]
    finally:
        miner["process"].stop()
    assert failed["error"]["code"] == "plugin_unverified"
    assert "refused to run" in failed["error"]["message"]
    assert f"is not the registered {miner['plugin']['sha256']}" in failed["error"]["message"]
    assert [i["status"] for i in installs["items"]] == ["mismatch"]
    assert "wordcount" not in capabilities["runners"]
    balance = get(stack, "trading", "/v1/accounts/me", client["key"])
    assert (balance["balance"], balance["held"]) == ("20.00000000", "0.00000000")
