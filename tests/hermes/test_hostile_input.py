"""Hostile input to every POST and PATCH of the hermes service, on PostgreSQL by default: each is refused with a
4xx (a 422 for a value no field may hold) in the contract's error shape, and afterwards nothing is stored (agents,
workflows and their steps, jobs, deployments, replicas as they were), no escrow is held and the lists still
answer. Workflow definitions are bounded before any reference is resolved. Filters and ids: a 4xx."""

import json

import pytest

from aitbc_miner.runners import Device, runner_for
from apps.accounts.services import api_key_rotate
from apps.ai.models import Job
from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete
from apps.gpu.models import Miner
from apps.gpu.services.miners import miner_heartbeat
from apps.hermes.models import Agent, EdgeDeployment, EdgeReplica, Workflow, WorkflowStep
from apps.hermes.services.advance import workflow_advance
from apps.trading.facade import account_balances
from tests import hostile
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = [pytest.mark.django_db(databases="__all__"), pytest.mark.usefixtures("edge_profiles")]
ORIN = {"name": "NVIDIA Jetson AGX Orin", "memory_mb": 62841}
STEP = {"id": "a", "type": "echo", "payload": {"note": "x"}, "max_price": "2", "ttl_seconds": 900}

# name: (method, path, who, valid body, a string field, a number field, what the valid body answers); "@x" stands
# for the world's x
ENDPOINTS = {
    "agent": ("post", "/v1/agents", "operator", {"name": "a2", "skills": ["echo"], "unit_price": "0.01",
              "region": "eu", "miner_id": "@miner"}, "region", "unit_price", 201),
    "agent_patch": ("patch", "/v1/agents/@agent", "operator", {"name": "a1-renamed", "unit_price": "0.02"}, "name",
                    "unit_price", 200),
    "route": ("post", "/v1/skills/route", "client", {"skill": "echo", "region": "eu", "weights": {"price": 0.5}},
              "region", "weights.price", 200),
    "offload": ("post", "/v1/offload/decide", "client", {"type": "echo", "payload": {"note": "x"}, "max_price": "2",
                "local": {"gpu_model": "Orin"}}, "payload.note", "local.queue_depth", 200),
    "workflow": ("post", "/v1/workflows", "client", {"name": "w", "steps": [STEP]}, "steps.0.payload.note",
                 "steps.0.ttl_seconds", 201),
    "hybrid": ("post", "/v1/hybrid/executions", "client", {"name": "h", "steps": [STEP], "local": {"region": "eu"}},
               "name", "local.concurrency", 201),
    "collaboration": ("post", "/v1/collaborations", "client", {"name": "c", "steps": [STEP], "region": "eu"},
                      "region", "steps.0.ttl_seconds", 201),
    "deploy": ("post", "/v1/edge/deployments", "client", {"runner": "echo", "constraints": {"gpu_model": "Orin",
               "min_memory_gb": 1}, "replicas": 1}, "constraints.gpu_model", "constraints.min_memory_gb", 201),
    "scale": ("post", "/v1/edge/deployments/@deployment/scale", "client", {"replicas": 1}, "replicas", "replicas",
              200),
    "report": ("post", "/v1/edge/replicas/@replica/report", "operator", {"state": "INSTALLED", "runner_version": "1"},
               "runner_version", "state", 200),
}  # fmt: skip
STEP_B = {"id": "b", "type": "echo", "max_price": "2", "depends_on": ["a"]}
BEYOND = {  # (endpoint, field, raw JSON): beyond what storage or the ledger holds, or the wrong type where logic reads
    "agent_price_beyond_the_ledger": ("agent", "unit_price", '"10000000000"'),
    "agent_skill_with_a_newline": ("agent", "skills", '["echo\\n"]'),
    "agent_skill_too_long": ("agent", "skills", json.dumps(["x" * 65])),
    "agent_skills_not_a_list": ("agent", "skills", '"echo"'),
    "agent_name_beyond_its_column": ("agent", "name", json.dumps("x" * 101)),
    "patched_price_beyond_the_ledger": ("agent_patch", "unit_price", '"10000000000"'),
    "patched_skill_not_a_skill": ("agent_patch", "skills", '["a b"]'),
    "route_weight_as_text": ("route", "weights.price", '"heavy"'),
    "route_weight_beyond_its_bound": ("route", "weights.price", "1e300"),
    "route_weight_unknown": ("route", "weights.speed", "1"),
    "route_weights_not_an_object": ("route", "weights", "[0.5]"),
    "route_max_price_beyond_the_ledger": ("route", "max_price", '"10000000000"'),
    "offload_price_beyond_the_ledger": ("offload", "max_price", '"10000000000"'),
    "offload_local_price_beyond_the_ledger": ("offload", "local.unit_price", '"10000000000"'),
    "offload_queue_beyond_int4": ("offload", "local.queue_depth", "2147483648"),
    "offload_min_vram_as_text": ("offload", "constraints.min_vram_gb", '"lots"'),
    "step_price_beyond_the_ledger": ("workflow", "steps.0.max_price", '"10000000000"'),
    "steps_adding_up_beyond_the_ledger": ("workflow", "steps", json.dumps([dict(STEP, max_price="9999999999"),
                                                                           dict(STEP_B, max_price="9999999999")])),
    "step_ttl_beyond_int4": ("workflow", "steps.0.ttl_seconds", "2147483648"),
    "step_dependency_not_a_step_id": ("workflow", "steps.0.depends_on", '["a\\nb"]'),
    "too_many_steps": ("workflow", "steps", json.dumps([dict(STEP, id=f"s{i}") for i in range(101)])),
    "too_many_references": ("workflow", "steps", json.dumps([STEP, dict(STEP_B, payload={
        f"k{i}": {"$from": "a"} for i in range(17)})])),
    "step_constraints_not_an_object": ("collaboration", "steps.0.constraints", '"fast"'),
    "hybrid_concurrency_beyond_its_bound": ("hybrid", "local.concurrency", "2147483648"),
    "replicas_beyond_int4": ("deploy", "replicas", "2147483648"),
    "memory_beyond_any_gpu": ("deploy", "constraints.min_memory_gb", "1e20"),
    "tdp_beyond_int4": ("deploy", "constraints.max_tdp_w", "2147483648"),
    "unknown_category": ("deploy", "constraints.categories", '["mainframe"]'),
    "runner_with_a_newline": ("deploy", "runner", '"echo\\n"'),
    "scaled_beyond_its_bound": ("scale", "replicas", "2147483648"),
    "reported_state_not_reportable": ("report", "state", '"LOST"'),
    "reported_reason_beyond_its_column": ("report", "reason", json.dumps("x" * 501)),
}  # fmt: skip
LISTS = [("/v1/agents", "operator"), ("/v1/workflows", "client"), ("/v1/edge/deployments", "client"),
         ("/v1/edge/replicas", "operator"), ("/v1/ecosystem/skills", "client")]  # fmt: skip
PAGING = [("limit", "\u00b2"), ("limit", "9" * 5000), ("limit", "0"), ("limit", "501"), ("offset", "-1"),
          ("offset", "9" * 5000)]  # fmt: skip
FILTERS = [("/v1/agents", "operator", "skill", "a\x00b"), ("/v1/agents", "operator", "skill", "x" * 65),
           ("/v1/workflows", "client", "status", "BOGUS"), ("/v1/workflows", "client", "kind", "BOGUS"),
           ("/v1/edge/replicas", "operator", "state", "BOGUS"),
           ("/v1/edge/replicas", "operator", "state", "a\x01")]  # fmt: skip


@pytest.fixture
def world(api):
    """An operator's edge miner (an Orin) with an agent for echo, a funded client, and the client's deployment of
    echo with its one replica on that miner."""
    miner = gpu_factories.miner(gpus=(ORIN,))
    keys = {"operator": api_key_rotate(principal_id=miner.principal_id).key}
    client, keys["client"] = trading_factories.funded_client("100")
    body = {"name": "a1", "skills": ["echo"], "unit_price": "0.01", "region": "eu", "miner_id": str(miner.id)}
    agent = api("hermes", keys["operator"]).post("/v1/agents", body).json()
    deployment = api("hermes", keys["client"]).post("/v1/edge/deployments", {"runner": "echo"}).json()
    names = {"@miner": miner.id, "@agent": agent["agent_id"], "@deployment": deployment["deployment_id"],
             "@replica": deployment["replica_states"][0]["replica_id"]}  # fmt: skip
    return {"api": api, "keys": keys, "client": client, "miner": miner, "names": names}


def as_(world, who: str):
    """The hermes service as `who` (operator or client) of the world calls it."""
    return world["api"]("hermes", world["keys"][who])


def filled(text: str, world) -> str:
    for name, value in world["names"].items():
        text = text.replace(name, str(value))
    return text


def sent(world, endpoint: str, text: str):
    method, path, who, *_ = ENDPOINTS[endpoint]
    return as_(world, who).request(method, filled(path, world), filled(text, world))


def state(world) -> dict:
    """Everything a request to hermes could have changed, the jobs and escrow of workflow steps included."""
    return {
        "agents": list(Agent.objects.order_by("id").values("name", "skills", "unit_price", "region", "miner_id")),
        "workflows": (Workflow.objects.count(), WorkflowStep.objects.count(), Job.objects.count()),
        "deployments": list(EdgeDeployment.objects.order_by("id").values("runner", "constraints", "replicas")),
        "replicas": list(EdgeReplica.objects.order_by("id").values("state", "reason", "runner_version")),
        "balances": account_balances(world["client"].id),
    }


def assert_lists_answer(world) -> None:
    for path, who in LISTS:
        response = as_(world, who).get(path)
        assert response.status_code == 200, (path, response.content[:300])
        assert isinstance(response.json()["items"], list)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_control_each_valid_body_does_its_work(world, endpoint):
    """Given the valid bodies the hostile ones are made from, they are not refused: so a refusal below is the
    hostile value's."""
    body, *_, status = ENDPOINTS[endpoint][3:]
    response = sent(world, endpoint, json.dumps(body))
    assert response.status_code == status, response.content[:500]


@pytest.mark.parametrize("kind", hostile.ALL)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("which", ["string", "number"])
def test_a_hostile_value_in_any_field_is_refused_and_changes_nothing(world, endpoint, which, kind):
    body, string_field, number_field, _ = ENDPOINTS[endpoint][3:]
    before = state(world)
    field = string_field if which == "string" else number_field
    hostile.assert_refused(sent(world, endpoint, hostile.body_with(body, field, hostile.ALL[kind])), 422)
    assert state(world) == before
    assert_lists_answer(world)


@pytest.mark.parametrize("case", BEYOND)
def test_a_value_beyond_storage_or_the_ledger_or_of_the_wrong_type_is_refused(world, case):
    endpoint, field, raw = BEYOND[case]
    before = state(world)
    response = sent(world, endpoint, hostile.body_with(ENDPOINTS[endpoint][3], field, raw))
    detail = hostile.assert_refused(response, 422)["detail"]
    assert [name for name in field.split(".") if not name.isdigit()][-1] in detail  # the schema's word, not storage's
    assert state(world) == before
    assert_lists_answer(world)


def test_a_step_with_twenty_thousand_references_is_refused_before_any_is_resolved(world):
    """The payload is over a job's payload limit: refused as it stands, without a reference looked at."""
    many = dict(STEP_B, payload={"refs": [{"$from": "a"}] * 20_000})
    before = state(world)
    hostile.assert_refused(as_(world, "client").post("/v1/workflows", {"steps": [STEP, many]}), 413)
    assert state(world) == before
    assert_lists_answer(world)


@pytest.mark.parametrize("segment", ["\u00b2", "9" * 5000])
def test_a_reference_into_a_list_by_no_index_fails_its_step_and_breaks_nothing(world, segment):
    """Given a step reading item "²" (or 5,000 nines) of a list its dependency returned: when the dependency has
    completed, the step fails, never runs and holds nothing, and the workflow ends FAILED."""
    a = dict(STEP, payload={"items": [1, 2]})
    b = dict(STEP_B, payload={"x": {"$from": f"a.echo.items.{segment}"}})
    created = as_(world, "client").post("/v1/workflows", {"steps": [a, b]})
    assert created.status_code == 201, created.content
    workflow_id = created.json()["workflow_id"]
    workflow_advance(workflow_id)
    job = job_claim(miner=world["miner"])
    result = runner_for(job.type).run(job.payload, Device("cpu", "cpu"))
    ai_factories.held_for(job.id)
    job_complete(miner=world["miner"], job_id=job.id, result=result, metrics={"gpu_seconds": 1})
    assert workflow_advance(workflow_id) == "FAILED"
    view = as_(world, "client").get(f"/v1/workflows/{workflow_id}").json()
    steps = {s["id"]: s for s in view["steps"]}
    assert (steps["a"]["state"], steps["b"]["state"], steps["b"]["job_id"]) == ("COMPLETED", "FAILED", None)
    assert "has no" in steps["b"]["error"]
    assert account_balances(world["client"].id)["held"] == 0
    assert_lists_answer(world)


@pytest.mark.parametrize(
    "reading",
    [
        {"utilization_gpu": 0, "memory_used_mb": 0, "temperature_c": 0, "power_w": 0},
        {"utilization_gpu": 100, "memory_used_mb": 2**24, "temperature_c": 1000, "power_w": 100_000},
        {"utilization_gpu": 0, "memory_used_mb": 0, "temperature_c": -273.15, "power_w": 0},
    ],
    ids=["zero", "highest", "coldest"],
)
def test_telemetry_at_its_bounds_never_breaks_edge_placement(world, reading):
    """Given the edge miner's heartbeat at the bounds of every reading (and of inflight), a deployment is still
    placed on it, with a placement that is JSON, and the lists answer."""
    miner = Miner.objects.get(id=world["miner"].id)
    uuid = gpu_factories.gpu_uuids(world["miner"])[0]
    miner_heartbeat(miner=miner, inflight=2**31 - 1, readings=[{"uuid": uuid, **reading}], job_ids=None)
    response = as_(world, "client").post("/v1/edge/deployments", {"runner": "echo"})
    assert response.status_code == 201, response.content[:500]
    assert "slots busy" in json.loads(response.content)["replica_states"][0]["choice"]["explanation"]
    assert_lists_answer(world)


@pytest.mark.parametrize(("name", "value"), PAGING)
@pytest.mark.parametrize(("path", "who"), LISTS)
def test_a_hostile_paging_parameter_is_a_4xx(world, path, who, name, value):
    hostile.assert_refused(as_(world, who).get(path, {name: value}))


@pytest.mark.parametrize(("path", "who", "name", "value"), FILTERS)
def test_a_hostile_filter_is_a_4xx(world, path, who, name, value):
    hostile.assert_refused(as_(world, who).get(path, {name: value}))


@pytest.mark.parametrize("bad_id", ["\u00b2", "9" * 5000, "a\x00b"])
@pytest.mark.parametrize("path", ["/v1/workflows/{}", "/v1/hybrid/executions/{}", "/v1/collaborations/{}",
                                  "/v1/edge/deployments/{}"])  # fmt: skip
def test_a_hostile_id_in_the_path_is_a_4xx(world, path, bad_id):
    hostile.assert_refused(as_(world, "client").get(path.format(bad_id)))
