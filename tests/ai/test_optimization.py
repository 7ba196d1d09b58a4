"""Optimization (issue 9): parameter sweeps fanned out as jobs with the best trial reported, predictions
from the job history with their sample size, the miners' record, health, and who may see a sweep."""

import math
from decimal import Decimal

import pytest

from apps.ai.models import Job, TuneStudy
from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete
from apps.trading.facade import account_balances
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def tune_body(**changes) -> dict:
    parameters = {"n": [64, 128, 256], "dtype": ["float32", "float64"]}
    return {"type": "matmul", "payload": {"repeat": 1}, "parameters": parameters, "metric": "tflops", "goal": "max",
            "max_price_per_job": "0.5", **changes}  # fmt: skip


def tune(api, key, **changes):
    return api("ai", key).post("/v1/optimization/tune", tune_body(**changes))


def run_claimed(miner, results: dict):
    """The miner runs each job it claims; `results` maps (n, dtype) to what the run reports."""
    while (job := job_claim(miner=miner)) is not None:
        result = results[(job.payload["n"], job.payload["dtype"])]
        job_complete(miner=miner, job_id=job.id, result=result, metrics={"gpu_seconds": 0.2, "duration_ms": 200})


def test_a_tune_fans_out_one_job_per_combination_and_reports_the_best_once_all_finish(api):
    miner = gpu_factories.miner(concurrency=8)
    client, key = trading_factories.funded_client("10")
    started = tune(api, key)
    assert started.status_code == 201, started.content
    study = started.json()
    assert study["status"] == "RUNNING"
    assert sorted((t["params"]["n"], t["params"]["dtype"]) for t in study["trials"]) == sorted(
        (n, d) for n in (64, 128, 256) for d in ("float32", "float64")
    )
    assert Job.objects.filter(type="matmul").count() == 6
    assert account_balances(client.id)["held"] == Decimal(3)
    assert api("ai", key).get(f"/v1/optimization/tune/{study['tune_id']}").json()["best"] is None

    tflops = {(64, "float32"): 0.1, (128, "float32"): 0.9, (256, "float32"): 0.4,
              (64, "float64"): 0.05, (128, "float64"): 0.3, (256, "float64"): 0.2}  # fmt: skip
    run_claimed(miner, {combo: {"tflops": value} for combo, value in tflops.items()})

    done = api("ai", key).get(f"/v1/optimization/tune/{study['tune_id']}").json()
    assert (done["status"], done["finished"]) == ("COMPLETED", 6)
    assert done["best"]["params"] == {"n": 128, "dtype": "float32"}
    assert done["best"]["value"] == 0.9
    assert account_balances(client.id)["held"] == 0


def test_a_tune_minimising_a_result_metric_picks_the_lowest_and_names_trials_without_a_value(api):
    miner = gpu_factories.miner(concurrency=8)
    _, key = trading_factories.funded_client("10")
    study = tune(api, key, parameters={"n": [64, 128]}, metric="gflops", goal="min").json()
    run_claimed(miner, {(64, "float32"): {"gflops": 3}, (128, "float32"): {"tflops": 1}})
    done = api("ai", key).get(f"/v1/optimization/tune/{study['tune_id']}").json()
    assert done["best"]["params"] == {"n": 64}
    assert [t["error"] for t in done["trials"] if t["params"]["n"] == 128] == [
        "the job reported no number for 'gflops'"
    ]


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"parameters": {"n": [64, 0]}}, 422, "payload.n"),
        ({"parameters": {"n": list(range(1, 17)), "repeat": [1, 2, 3]}}, 422, "at most 32"),
        ({"parameters": {}}, 422, "parameters"),
        ({"type": "warp"}, 422, "unknown job type"),
        ({"goal": "best"}, 422, "goal"),
        ({"metric": "a b"}, 422, "metric"),
        ({"max_price_per_job": "5"}, 402, "AIT"),
    ],
)
def test_a_tune_that_cannot_run_in_full_is_refused_and_submits_nothing(api, changes, status, words):
    client, key = trading_factories.funded_client("10")
    response = tune(api, key, **changes)
    assert response.status_code == status, response.content
    assert words in response.json()["detail"]
    assert (TuneStudy.objects.count(), Job.objects.count(), account_balances(client.id)["held"]) == (0, 0, 0)


def test_another_clients_tune_is_404(api):
    gpu_factories.miner()
    _, owner = trading_factories.funded_client("10")
    _, stranger = trading_factories.funded_client("10")
    tune_id = tune(api, owner, parameters={"n": [64]}).json()["tune_id"]
    assert api("ai", stranger).get(f"/v1/optimization/tune/{tune_id}").status_code == 404
    assert api("ai", stranger).get("/v1/optimization/tune").json()["count"] == 0


def history(miner, client, sizes_and_seconds):
    for n, seconds in sizes_and_seconds:
        ai_factories.job(client, type="matmul", payload={"n": n}, max_price="5")
        job = job_claim(miner=miner)
        ai_factories.held_for(job.id)  # the platform saw it run long enough for the seconds reported
        job_complete(miner=miner, job_id=job.id, result={}, metrics={"gpu_seconds": seconds})


def test_predict_fits_the_history_and_says_how_many_jobs_it_learned_from(api):
    miner = gpu_factories.miner(unit_price="0.5")
    client, key = trading_factories.funded_client("100")
    # seconds that grow with the runner's work estimate for each n, as matmul's do
    history(miner, client, [(512, 0.02), (1024, 0.1), (2048, 0.8), (4096, 6.4)])
    predicted = api("ai", key).post("/v1/optimization/predict", {"type": "matmul", "payload": {"n": 3000}})
    assert predicted.status_code == 200, predicted.content
    body = predicted.json()
    assert (body["sample_size"], body["method"]) == (4, "power_law")
    assert 0.8 < body["predicted_gpu_seconds"] < 6.4
    low, high = body["range_gpu_seconds"]
    assert low <= body["predicted_gpu_seconds"] <= high
    assert body["unit_price"] == "0.50000000"
    expected = Decimal("0.5") * Decimal(str(body["predicted_gpu_seconds"]))
    assert math.isclose(Decimal(body["predicted_price"]), expected, abs_tol=1e-6)


def test_predict_with_one_job_of_history_gives_its_median_and_with_none_404(api):
    _, key = trading_factories.funded_client("10")
    none = api("ai", key).post("/v1/optimization/predict", {"type": "sleep", "payload": {"seconds": 1}})
    assert none.status_code == 404
    assert none.json()["code"] == "no_history"
    miner = gpu_factories.miner()
    client, _ = trading_factories.funded_client("10")
    ai_factories.job(client, type="sleep", payload={"seconds": 1})
    job = job_claim(miner=miner)
    ai_factories.held_for(job.id)
    job_complete(miner=miner, job_id=job.id, result={}, metrics={"gpu_seconds": 1.25})
    body = api("ai", key).post("/v1/optimization/predict", {"type": "sleep", "payload": {"seconds": 1}}).json()
    assert (body["sample_size"], body["method"], body["predicted_gpu_seconds"]) == (1, "median", 1.25)
    bad = api("ai", key).post("/v1/optimization/predict", {"type": "sleep", "payload": {"seconds": -1}})
    assert bad.status_code == 422


def test_agents_show_each_miners_record_for_a_type(api):
    steady = gpu_factories.miner()
    idle = gpu_factories.miner()
    client, key = trading_factories.funded_client("20")
    history(steady, client, [(64, 0.5), (64, 1.5)])
    agents = api("ai", key).get("/v1/optimization/agents?type=matmul").json()["items"]
    by_id = {a["miner_id"]: a for a in agents}
    assert (by_id[str(steady.id)]["jobs_completed"], by_id[str(steady.id)]["mean_gpu_seconds"]) == (2, 1.0)
    assert by_id[str(steady.id)]["success_rate"] == 1.0
    assert by_id[str(idle.id)]["jobs_completed"] == 0
    assert agents[0]["miner_id"] == str(steady.id)


def test_health_reports_the_history_it_can_predict_from(api):
    assert api("ai").get("/v1/optimization/health").json()["status"] == "degraded"
    miner = gpu_factories.miner()
    client, _ = trading_factories.funded_client("10")
    history(miner, client, [(64, 0.5)])
    report = api("ai").get("/v1/optimization/health").json()
    assert report["status"] == "ok"
    assert report["checks"]["history"] == "ok (1 completed jobs to predict from)"


def test_a_tune_that_fails_part_way_through_submitting_cancels_and_refunds_what_it_submitted(
    api, monkeypatch, committed
):
    from apps.ai.services import benchmarks

    client, key = trading_factories.funded_client("10")
    monkeypatch.setattr(benchmarks, "job_submit", ai_factories.database_lost_at(benchmarks.job_submit, 3))
    response = committed(api("ai", key, raise_request_exception=False).post, "/v1/optimization/tune", tune_body())
    assert response.status_code == 503
    assert TuneStudy.objects.count() == 0
    assert sorted(Job.objects.values_list("state", flat=True)) == ["CANCELED", "CANCELED"]
    assert account_balances(client.id)["held"] == 0
