"""The gpu service's miner endpoints (API.md), as a miner and as strangers see them."""

import pytest

from aitbc_site.errors import Conflict
from apps.ai.models import Job
from apps.gpu.models import Gpu, Miner
from apps.gpu.services.miners import miner_capabilities_set, miner_plugins_recheck, miner_register
from tests.accounts import factories as accounts_factories
from tests.ai import factories as ai_factories
from tests.concurrency import at_once
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")
CAPS = {
    "gpus": [{"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-1", "memory_mb": 81559, "compute_capability": "9.0"}],
    "cuda_version": "13.0",
    "driver_version": "580.159.04",
    "models": [],
    "runners": ["echo", "sleep", "matmul"],
}


def capabilities_with(*uuids):
    """CAPS with an H100 of each of these NVML UUIDs."""
    return {**CAPS, "gpus": [dict(CAPS["gpus"][0], uuid=uuid) for uuid in uuids]}


def registered(api, gpu_uuid="GPU-1", **extra):
    _, key = accounts_factories.principal("miner")
    caps = capabilities_with(gpu_uuid)
    body = {"region": "eu", "concurrency": 2, "capabilities": caps, "unit_price": "0.01", **extra}
    response = api("gpu", key).post("/v1/miners/register", body)
    assert response.status_code == 200, response.content
    return key, response.json()


def test_register_answers_the_contract_and_again_updates_the_same_miner(api):
    key, first = registered(api)
    assert first["status"] == "ONLINE"
    assert first["heartbeat_interval_s"] == 10 and first["lease_timeout_s"] == 30
    assert first["queue"] == f"gpu.{first['miner_id']}"
    again = api("gpu", key).post("/v1/miners/register", {"region": "us", "unit_price": "0.02", "capabilities": CAPS})
    assert again.json()["miner_id"] == first["miner_id"]
    assert api("gpu", key).get(f"/v1/miners/{first['miner_id']}").json()["region"] == "us"


def test_the_gpu_registry_keeps_one_row_per_gpu_with_heartbeat_telemetry(api):
    key, miner = registered(api)
    reading = {"uuid": "GPU-1", "utilization_gpu": 97, "memory_used_mb": 2258.8, "temperature_c": 41, "power_w": 219.5}
    beat = api("gpu", key).post("/v1/miners/heartbeat", {"inflight": 1, "gpus": [reading]})
    assert beat.status_code == 200
    gpus = api("gpu", key).get(f"/v1/miners/{miner['miner_id']}/gpus").json()
    assert gpus["count"] == 1
    assert gpus["items"][0] | reading == gpus["items"][0]
    assert gpus["items"][0]["status"] == "BUSY"
    assert api("gpu").get("/gpu/status").json() == {"total": 1, "by_model": {"NVIDIA H100 80GB HBM3": {"BUSY": 1}}}


def test_heartbeat_without_registering_is_404(api):
    _, key = accounts_factories.principal("miner")
    assert api("gpu", key).post("/v1/miners/heartbeat").status_code == 404


def test_poll_answers_204_when_nothing_fits_and_the_job_when_one_does(api):
    key, _ = registered(api)
    assert api("gpu", key).post("/v1/miners/poll", {"max_wait_seconds": 0}).status_code == 204
    client, _ = trading_factories.funded_client()
    job = ai_factories.job(client, payload={"q": 1})
    claimed = api("gpu", key).post("/v1/miners/poll", {"max_wait_seconds": 1})
    assert claimed.status_code == 200
    assert claimed.json() | {"job_id": str(job.id), "type": "echo", "payload": {"q": 1}} == claimed.json()
    assert Job.objects.get(id=job.id).state == "RUNNING"


def test_result_completes_pays_and_repeats_the_same_answer(api):
    key, miner = registered(api)
    client, _ = trading_factories.funded_client()
    job = ai_factories.job(client)
    api("gpu", key).post("/v1/miners/poll", {"max_wait_seconds": 0})
    ai_factories.held_for(job.id)  # the platform saw it run at least the 2.5 s reported
    body = {"result": {"echo": 1}, "metrics": {"gpu_seconds": 2.5, "duration_ms": 2500}}
    first = api("gpu", key).post(f"/v1/miners/{job.id}/result", body)
    assert first.status_code == 200
    assert first.json()["state"] == "COMPLETED" and first.json()["receipt_id"]
    assert api("gpu", key).post(f"/v1/miners/{job.id}/result", body).json() == first.json()
    earnings = api("gpu", key).get(f"/v1/miners/{miner['miner_id']}/earnings").json()
    assert earnings == {
        "miner_id": miner["miner_id"],
        "total_earned": "0.02437500",
        "jobs_completed": 1,
        "currency": "AIT",
    }


def test_another_miner_cannot_complete_fail_or_read_my_job_or_miner(api):
    key, miner = registered(api)
    other_key, _ = registered(api, gpu_uuid="GPU-2")
    client, _ = trading_factories.funded_client()
    job = ai_factories.job(client)
    api("gpu", key).post("/v1/miners/poll", {"max_wait_seconds": 0})
    result = {"result": {}, "metrics": {"gpu_seconds": 1}}
    assert api("gpu", other_key).post(f"/v1/miners/{job.id}/result", result).status_code == 404
    assert api("gpu", other_key).post(f"/v1/miners/{job.id}/fail", {"error_code": "x"}).status_code == 404
    for path in ("", "/gpus", "/earnings"):
        assert api("gpu", other_key).get(f"/v1/miners/{miner['miner_id']}{path}").status_code == 404
    assert api("gpu", other_key).delete(f"/v1/miners/{miner['miner_id']}").status_code == 404
    _, client_key = accounts_factories.principal("client")
    assert api("gpu", client_key).post("/v1/miners/poll").status_code == 403


def test_fail_requeues_a_retryable_job(api):
    key, _ = registered(api)
    client, _ = trading_factories.funded_client()
    job = ai_factories.job(client)
    api("gpu", key).post("/v1/miners/poll", {"max_wait_seconds": 0})
    failed = api("gpu", key).post(
        f"/v1/miners/{job.id}/fail", {"error_code": "oom", "error_message": "x", "retryable": True}
    )
    assert failed.json() == {"job_id": str(job.id), "state": "QUEUED"}


def test_capabilities_update_and_deregister_puts_running_jobs_back(api):
    key, miner = registered(api)
    client, _ = trading_factories.funded_client()
    job = ai_factories.job(client)
    api("gpu", key).post("/v1/miners/poll", {"max_wait_seconds": 0})
    caps = {**CAPS, "runners": ["echo"]}
    updated = api("gpu", key).put(f"/v1/miners/{miner['miner_id']}/capabilities", {"capabilities": caps})
    assert updated.json()["capabilities"]["runners"] == ["echo"]
    assert api("gpu", key).delete(f"/v1/miners/{miner['miner_id']}").status_code == 204
    assert Job.objects.get(id=job.id).state == "QUEUED"
    assert api("gpu", key).post("/v1/miners/heartbeat").status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"unit_price": "-1"},
        {"unit_price": "x"},
        {"unit_price": "1", "concurrency": 0},
        {"unit_price": "1", "status": "ONLINE"},
        {"unit_price": "1", "capabilities": {"gpus": [{"name": "x"}]}},
    ],
)
def test_bad_registration_is_422(api, body):
    _, key = accounts_factories.principal("miner")
    response = api("gpu", key).post("/v1/miners/register", body)
    assert response.status_code == 422


def test_a_plugin_recheck_from_a_stale_copy_of_a_miner_keeps_the_capabilities_it_reported_since():
    view = gpu_factories.miner(runners=("echo",))
    stale = Miner.objects.get(id=view.id)
    newer = {**stale.capabilities, "runners": ["echo", "matmul"], "models": ["llama-3-8b"]}
    miner_capabilities_set(miner=Miner.objects.get(id=view.id), capabilities=newer)
    miner_plugins_recheck(miner=stale)  # a plugin was yanked meanwhile; the recheck started from the old row
    capabilities = Miner.objects.get(id=view.id).capabilities
    assert capabilities["runners"] == ["echo", "matmul"]
    assert capabilities["models"] == ["llama-3-8b"]


def test_a_gpu_another_miner_registered_is_409_gpu_taken_and_nothing_of_that_registration_is_stored(api):
    _, owner = registered(api, gpu_uuid="GPU-1")
    # a new miner reporting it: not registered at all
    newcomer_id, newcomer = accounts_factories.principal("miner")
    body = {"region": "eu", "capabilities": capabilities_with("GPU-1"), "unit_price": "0.01"}
    refused = api("gpu", newcomer).post("/v1/miners/register", body)
    assert (refused.status_code, refused.json()["code"]) == (409, "gpu_taken")
    assert "GPU GPU-1 is registered to another miner" in refused.json()["detail"]
    assert not Miner.objects.filter(principal_id=newcomer_id.id).exists()
    # a registered miner reporting it beside its own, by registering again or updating its capabilities: unchanged
    key, mine = registered(api, gpu_uuid="GPU-2")
    again = {"region": "us", "capabilities": capabilities_with("GPU-2", "GPU-1"), "unit_price": "0.05"}
    assert api("gpu", key).post("/v1/miners/register", again).status_code == 409
    path = f"/v1/miners/{mine['miner_id']}/capabilities"
    update = api("gpu", key).put(path, {"capabilities": capabilities_with("GPU-1")})
    assert (update.status_code, update.json()["code"]) == (409, "gpu_taken")
    view = api("gpu", key).get(f"/v1/miners/{mine['miner_id']}").json()
    assert (view["region"], view["unit_price"]) == ("eu", "0.01000000")
    assert [g["uuid"] for g in view["capabilities"]["gpus"]] == ["GPU-2"]
    assert sorted(Gpu.objects.values_list("uuid", "miner_id", "status")) == [
        ("GPU-1", Miner.objects.get(id=owner["miner_id"]).id, "AVAILABLE"),
        ("GPU-2", Miner.objects.get(id=mine["miner_id"]).id, "AVAILABLE"),
    ]


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_two_miners_registering_one_gpu_at_once_get_it_once():
    principals = iter([accounts_factories.principal("miner")[0] for _ in range(2)])
    register = lambda: miner_register(  # noqa: E731
        principal=next(principals), region="eu", concurrency=1, capabilities=capabilities_with("GPU-1"), unit_price=1
    )
    outcomes = at_once(register, allowed=(Conflict,))
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "Miner"]
    assert [o.code for o in outcomes if isinstance(o, Conflict)] == ["gpu_taken"]
    assert Miner.objects.count() == Gpu.objects.count() == 1
