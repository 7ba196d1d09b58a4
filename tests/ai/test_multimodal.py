"""Multimodal jobs (issue 9): the runner on a real PNG, /v1/multimodal/process, benchmarks that are stored
and steer dispatch, the capable miners, health checks, and who may see a benchmark."""

import base64
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from django.utils import timezone

from aitbc_miner.images import gradient_image, png_decode, png_encode
from aitbc_miner.runners import Device, PayloadError, runner_for
from apps.ai.models import Benchmark, Job
from apps.ai.services.benchmarks import benchmark_payload
from apps.ai.services.claim import job_claim
from apps.ai.services.dispatch import job_dispatch
from apps.ai.services.lifecycle import job_complete
from apps.trading.facade import account_balances
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

FIXTURE = Path(__file__).parents[1] / "miner" / "fixtures" / "rustc-diagram.png"  # written by rustdoc's toolchain
CPU = Device("cpu", "cpu")
pytestmark = pytest.mark.django_db(databases="__all__")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_given_a_real_png_and_text_when_the_multimodal_runner_runs_then_both_are_measured():
    runner = runner_for("multimodal")
    text = {"type": "text", "text": "A diagram of the compiler.\nIt has boxes, and boxes."}
    payload = runner.validate({"inputs": [text, {"type": "image", "data": b64(FIXTURE.read_bytes())}]})
    result = runner.run(payload, CPU)
    words, image = result["outputs"]
    assert (words["words"], words["lines"], words["top_words"][0]) == (10, 2, ["boxes", 2])
    assert (image["format"], image["width"], image["height"], image["channels"]) == ("png", 870, 166, 3)
    # the same means as an independent decoder (ImageMagick's convert to PPM) gives for this file
    assert image["pixels"]["mean"] == [214.9382, 225.1687, 231.609]
    assert (result["texts"], result["images"], result["total_pixels"]) == (1, 1, 870 * 166)


def test_given_pixels_when_encoded_then_the_decoder_gives_back_every_one():
    pixels = gradient_image(33, seed=5)
    assert np.array_equal(png_decode(png_encode(pixels))["pixels"], pixels)


@pytest.mark.parametrize(
    "inputs",
    [[], [{"type": "image", "data": "not base64!"}], [{"type": "image", "data": b64(b"GIF8")}],
     [{"type": "audio", "data": "AAAA"}], [{"type": "text"}]],
)  # fmt: skip
def test_given_inputs_that_are_not_text_and_images_when_validated_then_they_are_refused(inputs):
    with pytest.raises(PayloadError, match="payload.inputs"):
        runner_for("multimodal").validate({"inputs": inputs})


def image_input(size=16):
    return {"type": "image", "data": b64(png_encode(gradient_image(size)))}


def test_process_stores_a_multimodal_job_that_waits_for_a_miner_with_the_runner(api):
    gpu_factories.miner(runners=("echo",))
    _, key = trading_factories.funded_client("10")
    body = {"inputs": [{"type": "text", "text": "hello"}, image_input()], "max_price": "1"}
    response = api("ai", key).post("/v1/multimodal/process", body)
    assert response.status_code == 201, response.content
    view = response.json()
    assert (view["type"], view["state"]) == ("multimodal", "QUEUED")
    assert "no runner for 'multimodal'" in view["waiting_reason"]
    assert Job.objects.get(id=view["job_id"]).payload["inputs"][0] == {"type": "text", "text": "hello"}


@pytest.mark.parametrize(
    "inputs",
    [
        [],
        [{"type": "image", "data": b64(b"plain text")}],
        [{"type": "text", "data": "x"}],
        [{"type": "video", "text": "x"}],
    ],
)
def test_process_refuses_inputs_that_are_not_text_or_images_and_holds_nothing(api, inputs):
    client, key = trading_factories.funded_client("10")
    response = api("ai", key).post("/v1/multimodal/process", {"inputs": inputs, "max_price": "1"})
    assert response.status_code == 422, response.content
    assert Job.objects.count() == 0
    assert account_balances(client.id)["held"] == 0


@pytest.fixture
def clock(monkeypatch):
    """The platform's clock, standing still until the test moves it on."""

    class Clock:
        at = timezone.now()

        def advance(self, seconds: float) -> None:
            self.at += timedelta(seconds=seconds)

    stopped = Clock()
    monkeypatch.setattr(timezone, "now", lambda: stopped.at)
    return stopped


def complete(clock, miner, seconds: float, *, reported_ms: float | None = None):
    """The miner claims its job and its result reaches the platform `seconds` later by the platform's clock; the
    miner's metrics say the run took reported_ms (by default the same)."""
    job = job_claim(miner=miner)
    clock.advance(seconds)
    ms = seconds * 1000 if reported_ms is None else reported_ms
    metrics = {"gpu_seconds": seconds, "duration_ms": ms}
    return job_complete(miner=miner, job_id=job.id, result={"ok": True}, metrics=metrics)


def test_a_benchmark_stores_each_miners_seconds_and_dispatch_then_prefers_the_cheaper_per_job(api, clock):
    slow = gpu_factories.miner(unit_price="0.01", runners=("multimodal",), mode="celery")
    fast = gpu_factories.miner(unit_price="0.02", runners=("multimodal",), mode="celery")
    client, key = trading_factories.funded_client("20")
    body = {"miner_ids": [str(slow.id), str(fast.id)], "image_size": 32, "repeat": 1, "max_price_per_job": "1"}
    started = api("ai", key).post("/v1/multimodal/benchmark", body)
    assert started.status_code == 201, started.content
    benchmark = started.json()
    assert [r["miner_id"] for r in benchmark["runs"]] == [str(slow.id), str(fast.id)]
    assert account_balances(client.id)["held"] == Decimal(2)

    complete(clock, slow, 0.9)  # each job is pinned to its miner: each claims its own
    complete(clock, fast, 0.1)
    done = api("ai", key).get(f"/v1/multimodal/benchmark/{benchmark['benchmark_id']}").json()
    assert done["status"] == "COMPLETED"
    assert [(r["miner_id"], r["seconds"]) for r in done["ranking"]] == [(str(fast.id), 0.1), (str(slow.id), 0.9)]

    agents = api("ai", key).get("/v1/multimodal/agents").json()["items"]
    assert [a["miner_id"] for a in agents] == [str(fast.id), str(slow.id)]
    assert [a["cost_per_benchmark_run"] for a in agents] == ["0.00200000", "0.00900000"]
    job = ai_factories.job(client, type="multimodal", payload={"inputs": [image_input()]}, max_price="1")
    assert job_dispatch(job.id) == fast.id  # 0.02 x 0.1 s beats 0.01 x 0.9 s


def test_a_benchmark_run_a_miner_says_took_a_millisecond_is_recorded_at_the_time_the_platform_saw(api, clock):
    """Given two miners at the same price benchmarked together: one reports duration_ms 1 for a run whose result
    reached the platform 2.5 s after its claim, the other takes 0.5 s and says so. Then the run is recorded at
    2.5 s, ranked behind the honest 0.5 s, and dispatch prefers the honest miner."""
    boaster = gpu_factories.miner(unit_price="0.01", runners=("multimodal",), mode="celery")
    honest = gpu_factories.miner(unit_price="0.01", runners=("multimodal",), mode="celery")
    client, key = trading_factories.funded_client("20")
    body = {"miner_ids": [str(boaster.id), str(honest.id)], "image_size": 32, "repeat": 1, "max_price_per_job": "1"}
    benchmark_id = api("ai", key).post("/v1/multimodal/benchmark", body).json()["benchmark_id"]

    complete(clock, boaster, 2.5, reported_ms=1)
    complete(clock, honest, 0.5)
    done = api("ai", key).get(f"/v1/multimodal/benchmark/{benchmark_id}").json()
    assert [(r["miner_id"], r["seconds"]) for r in done["ranking"]] == [(str(honest.id), 0.5), (str(boaster.id), 2.5)]
    agents = api("ai", key).get("/v1/multimodal/agents").json()["items"]
    assert [(a["miner_id"], a["benchmark_seconds"]) for a in agents] == [(str(honest.id), 0.5), (str(boaster.id), 2.5)]
    job = ai_factories.job(client, type="multimodal", payload={"inputs": [image_input()]}, max_price="1")
    assert job_dispatch(job.id) == honest.id


def test_a_benchmark_of_a_tiny_workload_does_not_make_a_miner_look_fast_for_a_large_job(api, clock):
    """Given two miners at the same price, one benchmarked on the smallest workload (0.3 s for about 0.5 estimated
    GPU-seconds: 0.6 s each) and one on a large workload (3 s for about 7: 0.42 s each). Then a job of the
    large size goes to the second."""
    tiny = gpu_factories.miner(unit_price="0.01", runners=("multimodal",), mode="celery")
    large = gpu_factories.miner(unit_price="0.01", runners=("multimodal",), mode="celery")
    client, key = trading_factories.funded_client("20")
    for miner, size, repeat, seconds in ((tiny, 16, 1, 0.3), (large, 128, 50, 3)):
        body = {"miner_ids": [str(miner.id)], "image_size": size, "repeat": repeat, "max_price_per_job": "1"}
        assert api("ai", key).post("/v1/multimodal/benchmark", body).status_code == 201
        complete(clock, miner, seconds)

    job = ai_factories.job(
        client, type="multimodal", payload=benchmark_payload(image_size=128, repeat=50), max_price="1"
    )
    assert job_dispatch(job.id) == large.id


def test_a_benchmark_job_runs_only_on_its_miner(api):
    chosen = gpu_factories.miner(runners=("multimodal",))
    other = gpu_factories.miner(runners=("multimodal",))
    _, key = trading_factories.funded_client("5")
    body = {"miner_ids": [str(chosen.id)], "image_size": 16, "max_price_per_job": "1"}
    assert api("ai", key).post("/v1/multimodal/benchmark", body).status_code == 201
    assert job_claim(miner=other) is None
    assert job_claim(miner=chosen) is not None


def test_a_benchmark_needs_online_capable_miners_and_the_funds_for_every_job(api):
    plain = gpu_factories.miner(runners=("echo",))
    capable = gpu_factories.miner(runners=("multimodal",))
    client, key = trading_factories.funded_client("1")
    body = {"miner_ids": [str(plain.id)], "max_price_per_job": "0.5"}
    refused = api("ai", key).post("/v1/multimodal/benchmark", body)
    assert refused.status_code == 422
    assert "does not run multimodal jobs" in refused.json()["detail"]
    body = {"miner_ids": [str(capable.id)], "max_price_per_job": "2"}
    assert api("ai", key).post("/v1/multimodal/benchmark", body).status_code == 402
    assert (Benchmark.objects.count(), Job.objects.count(), account_balances(client.id)["held"]) == (0, 0, 0)


def test_another_clients_benchmark_is_404(api):
    capable = gpu_factories.miner(runners=("multimodal",))
    _, owner = trading_factories.funded_client("5")
    _, stranger = trading_factories.funded_client("5")
    body = {"miner_ids": [str(capable.id)], "image_size": 16, "max_price_per_job": "1"}
    benchmark_id = api("ai", owner).post("/v1/multimodal/benchmark", body).json()["benchmark_id"]
    assert api("ai", stranger).get(f"/v1/multimodal/benchmark/{benchmark_id}").status_code == 404
    assert api("ai", stranger).get("/v1/multimodal/benchmark").json()["count"] == 0
    assert api("ai", owner).get("/v1/multimodal/benchmark").json()["count"] == 1


def test_health_is_degraded_without_a_capable_miner_and_the_deep_check_runs_the_runner(api):
    shallow = api("ai").get("/v1/multimodal/health").json()
    assert (shallow["status"], shallow["checks"]["database"], shallow["checks"]["broker"]) == ("degraded", "ok", "ok")
    gpu_factories.miner(runners=("multimodal",))
    deep = api("ai").get("/v1/multimodal/health/deep")
    assert deep.status_code == 200
    assert deep.json()["status"] == "ok"
    assert deep.json()["checks"]["runner_self_test"].startswith("ok (")
    assert deep.json()["miners_online"] == 1
