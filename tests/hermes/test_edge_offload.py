"""Edge deployments (placement by edge profile and telemetry, replica reports, coordination), offloading
decisions from job history, hybrid execution and collaborations planned over workflows."""

from decimal import Decimal

import pytest

from apps.accounts.services import api_key_rotate
from apps.ai.services.claim import job_claim
from apps.gpu.models import Miner
from apps.gpu.services.miners import miner_heartbeat
from apps.hermes.models import EdgeDeployment
from apps.hermes.services.advance import workflow_advance
from apps.hermes.services.edge import deployments_coordinate, edge_candidates
from apps.trading.facade import account_balances
from tests.accounts import factories as accounts_factories
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.hermes.helpers import history
from tests.trading import factories as trading_factories

pytestmark = [pytest.mark.django_db(databases="__all__"), pytest.mark.usefixtures("edge_profiles")]
ORIN = {"name": "NVIDIA Jetson AGX Orin", "uuid": "GPU-orin-1", "memory_mb": 62841}
RTX = {"name": "NVIDIA GeForce RTX 4090", "uuid": "GPU-4090-1", "memory_mb": 24564}


def keyed_miner(**kwargs):
    miner = gpu_factories.miner(**kwargs)
    return miner, api_key_rotate(principal_id=miner.principal_id).key


def deploy(api, key, body):
    return api("hermes", key).post("/v1/edge/deployments", body)


def test_a_deployment_is_placed_on_edge_miners_and_each_replica_reports_its_state(api):
    orin, orin_key = keyed_miner(gpus=(ORIN,))
    rtx, rtx_key = keyed_miner(gpus=(RTX,), runners=("echo",))
    gpu_factories.miner()  # an H100: a datacenter GPU, not edge
    _, client_key = accounts_factories.principal("client")

    response = deploy(api, client_key, {"runner": "matmul", "replicas": 2})
    assert response.status_code == 201, response.content
    deployment = response.json()
    replicas = {r["miner_id"]: r for r in deployment["replica_states"]}
    assert set(replicas) == {str(orin.id), str(rtx.id)}
    assert deployment["status"] == "PENDING"
    assert "lists runner 'matmul'" in replicas[str(orin.id)]["choice"]["explanation"]
    assert replicas[str(orin.id)]["profile"] == "Jetson AGX Orin"

    pending = api("hermes", orin_key).get("/v1/edge/replicas?state=PENDING").json()["items"]
    assert [(p["runner"], p["state"]) for p in pending] == [("matmul", "PENDING")]
    installed = api("hermes", orin_key).post(
        f"/v1/edge/replicas/{pending[0]['replica_id']}/report", {"state": "INSTALLED", "runner_version": "built-in"}
    )
    assert installed.status_code == 200 and installed.json()["state"] == "INSTALLED"
    # another miner cannot report this replica
    assert (
        api("hermes", rtx_key)
        .post(f"/v1/edge/replicas/{pending[0]['replica_id']}/report", {"state": "FAILED", "reason": "x"})
        .status_code
        == 404
    )

    rtx_replica = replicas[str(rtx.id)]["replica_id"]
    failed = api("hermes", rtx_key).post(
        f"/v1/edge/replicas/{rtx_replica}/report", {"state": "FAILED", "reason": "no runner 'matmul' on this host"}
    )
    assert failed.json()["state"] == "FAILED"
    view = api("hermes", client_key).get(f"/v1/edge/deployments/{deployment['deployment_id']}").json()
    assert view["status"] == "DEGRADED"  # no third edge miner to replace the failed replica on
    assert "1 of 2 replicas live" in view["status_reason"]
    states = {r["miner_id"]: (r["state"], r["reason"]) for r in view["replica_states"]}
    assert states == {
        str(orin.id): ("INSTALLED", None),
        str(rtx.id): ("FAILED", "no runner 'matmul' on this host"),
    }


def test_a_miner_that_reports_fewer_jobs_inflight_than_the_platform_gave_it_is_placed_as_busy_as_it_is(api):
    """Given two edge miners of 4 slots: one runs 3 jobs the platform gave it but heartbeats inflight 0, the
    other runs 1 and says so. Then the replica goes to the one the platform knows is less busy."""
    hiding, _ = keyed_miner(gpus=(ORIN,))
    honest, _ = keyed_miner(gpus=(dict(ORIN, uuid="GPU-orin-2"),))
    client, client_key = trading_factories.funded_client("100")
    for miner, jobs, says in ((hiding, 3, 0), (honest, 1, 1)):
        for _ in range(jobs):
            ai_factories.job(client)
            assert job_claim(miner=miner) is not None
        miner_heartbeat(miner=Miner.objects.get(id=miner.id), inflight=says, readings=[], job_ids=None)

    explained = {c["miner"].id: c["explanation"] for c in edge_candidates("matmul", {}, set())[0]}
    assert explained[hiding.id].endswith("3/4 slots busy")
    deployment = deploy(api, client_key, {"runner": "matmul", "replicas": 1}).json()
    assert [r["miner_id"] for r in deployment["replica_states"]] == [str(honest.id)]


def test_too_few_edge_miners_is_422_naming_why_and_nothing_is_recorded(api):
    keyed_miner(gpus=(ORIN,))
    gpu_factories.miner()  # H100
    _, client_key = accounts_factories.principal("client")
    response = deploy(api, client_key, {"runner": "matmul", "replicas": 2})
    assert response.status_code == 422
    assert "2 asked for but 1 online edge miner(s) fit" in response.json()["detail"]
    assert "a datacenter GPU, not edge/consumer" in response.json()["detail"]
    assert EdgeDeployment.objects.count() == 0


def test_coordination_replaces_a_replica_whose_miner_went_offline(api):
    first, _ = keyed_miner(gpus=(ORIN,))
    _, client_key = accounts_factories.principal("client")
    deployment = deploy(api, client_key, {"runner": "echo", "replicas": 1}).json()
    second, _ = keyed_miner(gpus=(RTX,))
    Miner.objects.filter(id=first.id).update(status="OFFLINE")

    assert deployments_coordinate() == {"lost": 1, "placed": 1, "retired": 0}
    view = api("hermes", client_key).get(f"/v1/edge/deployments/{deployment['deployment_id']}").json()
    assert [(r["miner_id"], r["state"]) for r in view["replica_states"]] == [
        (str(first.id), "LOST"),
        (str(second.id), "PENDING"),
    ]


def test_scaling_down_retires_replicas_and_another_client_sees_404(api):
    keyed_miner(gpus=(ORIN,))
    keyed_miner(gpus=(RTX,))
    _, client_key = accounts_factories.principal("client")
    deployment = deploy(api, client_key, {"runner": "echo", "replicas": 2}).json()
    path = f"/v1/edge/deployments/{deployment['deployment_id']}"
    scaled = api("hermes", client_key).post(f"{path}/scale", {"replicas": 1}).json()
    assert sorted(r["state"] for r in scaled["replica_states"]) == ["PENDING", "RETIRED"]
    again = api("hermes", client_key).post(f"{path}/scale", {"replicas": 2}).json()  # the retired miner's turn again
    assert sorted(r["state"] for r in again["replica_states"]) == ["PENDING", "PENDING", "RETIRED"]
    _, other = accounts_factories.principal("client")
    assert api("hermes", other).get(path).status_code == 404
    assert api("hermes", other).delete(path).status_code == 404


def test_one_deployment_that_cannot_be_coordinated_does_not_stop_the_others(api, monkeypatch):
    from apps.hermes.services import edge

    first, _ = keyed_miner(gpus=(ORIN,))
    _, client_key = accounts_factories.principal("client")
    broken = deploy(api, client_key, {"runner": "echo", "replicas": 1}).json()["deployment_id"]
    deploy(api, client_key, {"runner": "echo", "replicas": 1})
    keyed_miner(gpus=(RTX,))
    Miner.objects.filter(id=first.id).update(status="OFFLINE")
    real = edge.deployment_coordinate

    def coordinate(deployment_id):
        if str(deployment_id) == broken:
            raise EdgeDeployment.DoesNotExist("deleted meanwhile")
        return real(deployment_id)

    monkeypatch.setattr(edge, "deployment_coordinate", coordinate)
    assert edge.deployments_coordinate() == {"lost": 1, "placed": 1, "retired": 0}


def offload(api, key, **local):
    body = {"type": "sleep", "payload": {"seconds": 2}, "max_price": "5", "local": local}
    response = api("hermes", key).post("/v1/offload/decide", body)
    assert response.status_code == 200, response.content
    return response.json()


def test_with_no_history_offloading_says_so_and_derives_from_the_queue_and_offer_prices(api):
    gpu_factories.miner(unit_price="0.5")
    _, key = accounts_factories.principal("client")
    answer = offload(api, key, gpu_model="RTX 4090", queue_depth=3)
    assert answer["history"] == {"completed_jobs": 0, "type": "sleep", "note": "no completed sleep job recorded yet"}
    market, local = answer["marketplace"], answer["local"]
    assert market["run_s"] == 2 and "runner's own estimate" in market["run_basis"]
    assert market["cost"] == "1.00000000"  # 0.5 AIT per GPU-second x 2 s
    assert market["wait_s"] == 0 and market["wait_basis"].startswith("no history: 0 queued ahead")
    assert local["wait_s"] == 6  # 3 queued x 2 s
    assert answer["decision"] == "marketplace"  # done in 2 s against 8 s


def test_offloading_uses_recorded_history_and_prefers_the_cheaper_when_asked(api):
    miner = gpu_factories.miner(unit_price="0.5")
    history(miner, completed=3, job_type="sleep", gpu_seconds=0)
    _, key = accounts_factories.principal("client")
    answer = offload(api, key, queue_depth=1, unit_price="0")
    assert answer["history"] == {"completed_jobs": 3, "type": "sleep"}
    assert "median of 3 completed jobs" in answer["marketplace"]["run_basis"]
    assert "median queue wait of 3 jobs" in answer["marketplace"]["wait_basis"]
    body = {
        "type": "sleep",
        "payload": {"seconds": 2},
        "max_price": "5",
        "prefer": "cost",
        "local": {"unit_price": "0"},
    }
    cheap = api("hermes", key).post("/v1/offload/decide", body).json()
    assert cheap["decision"] == "local"
    assert Decimal(cheap["local"]["cost"]) == 0


def test_with_no_fitting_miner_online_the_job_stays_local_and_says_why(api):
    _, key = accounts_factories.principal("client")
    answer = offload(api, key)
    assert answer["decision"] == "local"
    assert answer["marketplace"] == {
        "available": False,
        "reason": "no online miner fits its type, constraints and max_price",
        "queued_now": 0,
        "miners_fitting": 0,
    }


def test_a_hybrid_execution_places_each_step_and_pins_local_steps_to_the_callers_miner(api):
    gpu_factories.miner(unit_price="0.5", region="eu")
    _, key = trading_factories.funded_client("100")
    body = {
        "steps": [{"id": "prep", "type": "sleep", "payload": {"seconds": 1}, "max_price": "5"}],
        "local": {"region": "home", "gpu_model": "RTX 4090", "queue_depth": 0, "unit_price": "0"},
        "prefer": "cost",
    }
    response = api("hermes", key).post("/v1/hybrid/executions", body)
    assert response.status_code == 201, response.content
    view = response.json()
    assert view["kind"] == "hybrid"
    assert view["plan"]["prep"]["placement"] == "local"
    from apps.hermes.models import WorkflowStep

    constraints = WorkflowStep.objects.get(workflow_id=view["workflow_id"]).constraints
    assert (constraints["region"], constraints["gpu_model"]) == ("home", "RTX 4090")


def collaboration(api, agent_name: str) -> tuple:
    """A miner's echo agent, and a client's one-step collaboration routed to it:
    (miner, miner_key, agent, client, client_key, view)."""
    miner, miner_key = keyed_miner(unit_price="0.01", region="eu")
    agent = api("hermes", miner_key).post("/v1/agents", {"name": agent_name, "skills": ["echo"], "unit_price": "0.01",
                                                   "region": "eu", "miner_id": str(miner.id)}).json()  # fmt: skip
    client, key = trading_factories.funded_client("100")
    body = {"steps": [{"id": "say", "type": "echo", "payload": {"hi": 1}, "max_price": "5"}]}
    return miner, miner_key, agent, client, key, api("hermes", key).post("/v1/collaborations", body).json()


def test_a_collaboration_routes_each_step_to_an_agent_whose_miner_alone_runs_it(api):
    miner, _, agent, _, key, view = collaboration(api, "echoer")
    assert view["kind"] == "collaboration"
    assert view["steps"][0]["agent_id"] == agent["agent_id"]
    assert view["plan"]["say"]["agent"] == "echoer"
    twin = gpu_factories.miner(unit_price="0.01", region="eu")  # same region and GPU, but not the routed agent's

    workflow_advance(view["workflow_id"])

    assert job_claim(miner=twin) is None
    assert (
        str(job_claim(miner=miner).id)
        == api("hermes", key).get(f"/v1/collaborations/{view['workflow_id']}").json()["steps"][0]["job_id"]
    )
    missing = api("hermes", key).post(
        "/v1/collaborations", {"steps": [{"id": "x", "type": "matmul", "max_price": "5"}]}
    )
    assert missing.status_code == 404
    assert missing.json()["detail"] == "no agent offers the skill 'matmul'"


def test_a_collaboration_step_whose_agent_was_deleted_fails_rather_than_running_anywhere(api):
    _, miner_key, agent, client, key, view = collaboration(api, "leaver")
    assert api("hermes", miner_key).delete(f"/v1/agents/{agent['agent_id']}").status_code == 204
    assert workflow_advance(view["workflow_id"]) == "FAILED"
    step = api("hermes", key).get(f"/v1/collaborations/{view['workflow_id']}").json()["steps"][0]
    assert (step["state"], step["job_id"]) == ("FAILED", None)
    assert "was deleted" in step["error"]
    assert account_balances(client.id)["held"] == 0
