"""Workflows through the real job pipeline: order, results passed on, failures propagated, money, isolation."""

from decimal import Decimal

import pytest

from aitbc_miner.runners import Device, runner_for
from apps.ai.models import Job
from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete, job_fail
from apps.hermes.models import Workflow, WorkflowStep
from apps.hermes.services.advance import workflow_advance
from apps.trading.facade import account_balances
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def step(step_id, *, depends_on=(), payload=None, max_price="5", type="echo"):
    return {
        "id": step_id,
        "type": type,
        "payload": payload if payload is not None else {"step": step_id},
        "max_price": max_price,
        "depends_on": list(depends_on),
    }


def created(api, key, steps):
    response = api("hermes", key).post("/v1/workflows", {"steps": steps})
    assert response.status_code == 201, response.content
    return response.json()["workflow_id"]


def states(api, key, workflow_id) -> dict:
    view = api("hermes", key).get(f"/v1/workflows/{workflow_id}").json()
    return {"status": view["status"], **{s["id"]: (s["state"], s["job_id"]) for s in view["steps"]}}


def run_next(miner, *, gpu_seconds=2, fail_committed=None):
    """The miner claims the next job and completes it, or fails it (running what the failure defers to after
    commit: the escrow release) when given the `committed` fixture; returns the job."""
    job = job_claim(miner=miner)
    assert job is not None
    if fail_committed:
        fail_committed(job_fail, miner=miner, job_id=job.id, code="boom", message="the runner crashed", retryable=False)
    else:
        result = runner_for(job.type).run(job.payload, Device("cpu", "cpu"))  # what a miner's runner returns
        ai_factories.held_for(job.id)  # the platform saw it run at least the GPU-seconds reported
        job_complete(miner=miner, job_id=job.id, result=result, metrics={"gpu_seconds": gpu_seconds})
    return Job.objects.get(id=job.id)


def test_a_step_runs_only_after_its_dependency_completed_and_reads_its_result(api):
    client, key = trading_factories.funded_client("100")
    miner = gpu_factories.miner(unit_price="0.5")
    workflow_id = created(api, key, [
        step("one", payload={"numbers": [1, 2, 3]}),
        step("two", depends_on=["one"], payload={"total_of": {"$from": "one.echo.numbers"}, "all": {"$from": "one"}}),
    ])  # fmt: skip

    workflow_advance(workflow_id)
    first = states(api, key, workflow_id)
    assert first["one"][0] == "QUEUED" and first["two"] == ("WAITING", None)
    assert account_balances(client.id)["held"] == Decimal(5)  # only the submitted step holds money

    job_one = run_next(miner)
    assert job_claim(miner=miner) is None  # step two is not submitted before a pass sees one completed
    workflow_advance(workflow_id)
    job_two = Job.objects.get(id=states(api, key, workflow_id)["two"][1])
    assert job_two.payload == {"total_of": [1, 2, 3], "all": {"echo": {"numbers": [1, 2, 3]}}}
    assert job_two.created_at >= job_one.finished_at

    run_next(miner)
    workflow_advance(workflow_id)
    final = states(api, key, workflow_id)
    assert (final["status"], final["one"][0], final["two"][0]) == ("COMPLETED", "COMPLETED", "COMPLETED")
    assert account_balances(client.id) == {**account_balances(client.id), "balance": Decimal(98), "held": 0}


def test_a_failed_step_fails_its_dependants_which_never_run_and_hold_nothing(api, committed):
    client, key = trading_factories.funded_client("100")
    miner = gpu_factories.miner(unit_price="0.5")
    workflow_id = created(api, key, [
        step("a"), step("b", depends_on=["a"]), step("c", depends_on=["b"]), step("side"),
    ])  # fmt: skip
    workflow_advance(workflow_id)
    assert account_balances(client.id)["held"] == Decimal(10)  # a and side

    failed = run_next(miner, fail_committed=committed)
    assert failed.id == Job.objects.get(id=states(api, key, workflow_id)["a"][1]).id
    run_next(miner, gpu_seconds=2)  # side completes: 1 AIT
    workflow_advance(workflow_id)

    view = api("hermes", key).get(f"/v1/workflows/{workflow_id}").json()
    by_id = {s["id"]: s for s in view["steps"]}
    assert view["status"] == "FAILED"
    assert by_id["a"]["state"] == "FAILED" and "the runner crashed" in by_id["a"]["error"]
    assert (by_id["b"]["state"], by_id["b"]["job_id"], by_id["b"]["error"]) == (
        "FAILED",
        None,
        "not run: dependency a failed",
    )
    assert (by_id["c"]["state"], by_id["c"]["job_id"], by_id["c"]["error"]) == (
        "FAILED",
        None,
        "not run: dependency b failed",
    )
    assert by_id["side"]["state"] == "COMPLETED"
    assert Job.objects.filter(client_id=client.id).count() == 2
    balances = account_balances(client.id)
    assert (balances["balance"], balances["held"]) == (Decimal(99), 0)  # a refunded in full, b and c never held


def test_a_step_is_submitted_once_however_often_and_after_a_lost_write_it_is_advanced(api):
    client, key = trading_factories.funded_client("100")
    workflow_id = created(api, key, [step("only")])
    workflow_advance(workflow_id)
    workflow_advance(workflow_id)
    job_id = states(api, key, workflow_id)["only"][1]
    # the hermes write of the job id is lost (a crash after the ai commit): the next pass finds the same job
    WorkflowStep.objects.filter(workflow_id=workflow_id).update(job_id=None, state="WAITING")
    workflow_advance(workflow_id)
    assert states(api, key, workflow_id)["only"][1] == job_id
    assert Job.objects.filter(client_id=client.id).count() == 1
    assert account_balances(client.id)["held"] == Decimal(5)


def test_a_reference_to_a_missing_part_of_a_result_fails_the_step_before_any_money_is_held(api):
    client, key = trading_factories.funded_client("100")
    miner = gpu_factories.miner(unit_price="0.5")
    workflow_id = created(api, key, [step("a"), step("b", depends_on=["a"], payload={"x": {"$from": "a.nope"}})])
    workflow_advance(workflow_id)
    run_next(miner)
    workflow_advance(workflow_id)
    view = api("hermes", key).get(f"/v1/workflows/{workflow_id}").json()
    assert view["status"] == "FAILED"
    assert view["steps"][1]["error"] == "not run: 'a.nope': the result of step a has no 'nope'"
    assert account_balances(client.id)["held"] == 0


def test_a_payload_that_resolves_to_a_number_fails_the_step_instead_of_wedging_the_workflow(api):
    client, key = trading_factories.funded_client("100")
    miner = gpu_factories.miner(unit_price="0.5")
    first = step("a", payload={"x": 5})
    workflow_id = created(api, key, [first, step("b", depends_on=["a"], payload={"$from": "a.echo.x"})])
    workflow_advance(workflow_id)
    run_next(miner)
    assert workflow_advance(workflow_id) == "FAILED"
    view = api("hermes", key).get(f"/v1/workflows/{workflow_id}").json()
    assert view["steps"][1]["state"] == "FAILED"
    assert "payload: must be a JSON object, not int" in view["steps"][1]["error"]
    assert account_balances(client.id)["held"] == 0


@pytest.mark.parametrize(
    "steps, detail",
    [
        ([step("a", depends_on=["b"]), step("b", depends_on=["a"])], "the dependencies form a cycle"),
        ([step("a", depends_on=["a"])], "a step cannot depend on itself"),
        ([step("a", depends_on=["ghost"])], "steps.a.depends_on: unknown step(s) ghost"),
        ([step("a"), step("a")], "duplicate step id(s) a"),
        ([step("a"), step("b", payload={"x": {"$from": "a"}})], "must name one of the step's depends_on"),
        ([step("a", type="no-such-type")], "unknown job type 'no-such-type'"),
        ([step("a", type="sleep", payload={"seconds": -1})], "payload.seconds"),
    ],
)
def test_bad_workflows_are_422_and_nothing_is_created(api, steps, detail):
    client, key = trading_factories.funded_client("100")
    response = api("hermes", key).post("/v1/workflows", {"steps": steps})
    assert response.status_code == 422, response.content
    assert detail in response.json()["detail"]
    assert Workflow.objects.count() == 0
    assert account_balances(client.id)["held"] == 0


def test_a_workflow_costing_more_than_the_available_balance_is_402(api):
    _, key = trading_factories.funded_client("9")
    response = api("hermes", key).post("/v1/workflows", {"steps": [step("a"), step("b")]})
    assert response.status_code == 402
    assert "add up to 10.00000000 AIT but only 9.00000000 AIT is available" in response.json()["detail"]
    assert Workflow.objects.count() == 0


def test_another_principals_workflow_is_404(api):
    _, key = trading_factories.funded_client("100")
    workflow_id = created(api, key, [step("a")])
    _, other = trading_factories.funded_client("100")
    assert api("hermes", other).get(f"/v1/workflows/{workflow_id}").status_code == 404
    assert api("hermes", other).post(f"/v1/workflows/{workflow_id}/cancel").status_code == 404
    assert api("hermes", other).get("/v1/workflows").json()["count"] == 0


def test_canceling_a_workflow_releases_its_running_steps_money_and_stops_the_rest(api, committed):
    client, key = trading_factories.funded_client("100")
    workflow_id = created(api, key, [step("a"), step("b", depends_on=["a"])])
    workflow_advance(workflow_id)
    response = committed(api("hermes", key).post, f"/v1/workflows/{workflow_id}/cancel")
    assert response.status_code == 200
    view = response.json()
    assert (view["status"], [s["state"] for s in view["steps"]]) == ("CANCELED", ["CANCELED", "CANCELED"])
    assert account_balances(client.id)["held"] == 0
    assert api("hermes", key).post(f"/v1/workflows/{workflow_id}/cancel").status_code == 409
