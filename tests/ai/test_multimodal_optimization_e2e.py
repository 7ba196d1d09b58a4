"""Multimodal and optimization jobs with real processes: the stack and a polling miner run a text-and-image
job, a benchmark, and a parameter sweep whose best trial is reported; then predict learns from them."""

import base64
from pathlib import Path

import httpx
import pytest

from tests.processes import wait_for
from tests.stack import stack_running

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases="__all__", transaction=True)]
FIXTURE = Path(__file__).parents[1] / "miner" / "fixtures" / "rustc-diagram.png"


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with stack_running() as running:
        yield running


class Client:
    def __init__(self, stack, key):
        self.http = httpx.Client(base_url=stack.gateway, headers={"Authorization": f"Bearer {key}"}, timeout=30)

    def get(self, path):
        response = self.http.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path, body, status=201):
        response = self.http.post(path, json=body)
        assert response.status_code == status, response.text
        return response.json()


def finished(client, path: str, what: str, timeout: float = 90) -> dict:
    """GET path until its status is no longer RUNNING."""
    return wait_for(lambda: (view := client.get(path))["status"] != "RUNNING" and view, timeout, what)


def test_a_real_miner_runs_multimodal_benchmark_and_tune_jobs_and_predict_learns_from_them(stack):
    admin, alice = stack.principal("admin", "ops"), stack.principal("client", "alice")
    assert stack.aitbc("wallet", "credit", alice["principal_id"], "50", key=admin["key"]).returncode == 0
    miner = stack.principal("miner", "mm-poller")
    args = ["--url", stack.gateway, "--key", miner["key"], "--unit-price", "0.01", "--concurrency", "2"]
    process = stack.spawn("mm-poller", "miner", "run", *args)
    client, as_miner = Client(stack, alice["key"]), Client(stack, miner["key"])
    try:
        miner_id = wait_for(lambda: as_miner.http.get("/gpu/v1/miners/me").json().get("miner_id"), 60, "the miner")
        image = base64.b64encode(FIXTURE.read_bytes()).decode()
        inputs = [{"type": "text", "text": "Where is the parser in this diagram?"}, {"type": "image", "data": image}]
        job = client.post("/ai/v1/multimodal/process", {"inputs": inputs, "max_price": "2"})
        result_path = f"/ai/v1/jobs/{job['job_id']}/result"
        result = wait_for(lambda: client.http.get(result_path).json().get("result"), 60, "the multimodal result")

        body = {"miner_ids": [miner_id], "image_size": 64, "repeat": 2, "max_price_per_job": "1"}
        benchmark = client.post("/ai/v1/multimodal/benchmark", body)
        measured = finished(client, f"/ai/v1/multimodal/benchmark/{benchmark['benchmark_id']}", "the benchmark")

        body = {"type": "sleep", "parameters": {"seconds": [0.3, 0.1, 0.2]}, "metric": "slept_seconds",
                "goal": "min", "max_price_per_job": "1"}  # fmt: skip
        sweep = client.post("/ai/v1/optimization/tune", body)
        tuned = finished(client, f"/ai/v1/optimization/tune/{sweep['tune_id']}", "the sweep")
        assert tuned["status"] == "COMPLETED", (tuned, process.output()[-3000:])
        predicted = client.post("/ai/v1/optimization/predict", {"type": "sleep", "payload": {"seconds": 0.2}}, 200)
        agents = client.get("/ai/v1/multimodal/agents")["items"]
    finally:
        process.stop()
    text, picture = result["outputs"]
    assert text["words"] == 7
    assert (picture["width"], picture["height"], picture["pixels"]["mean"]) == (870, 166, [214.9382, 225.1687, 231.609])
    assert measured["status"] == "COMPLETED"
    assert measured["ranking"][0]["miner_id"] == miner_id
    assert measured["ranking"][0]["seconds"] > 0
    assert agents[0]["benchmark_seconds"] == pytest.approx(measured["ranking"][0]["seconds"])
    assert (tuned["status"], tuned["finished"], tuned["best"]["params"]) == ("COMPLETED", 3, {"seconds": 0.1})
    assert predicted["sample_size"] == 3
