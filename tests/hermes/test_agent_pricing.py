"""Advertised is charged: a job run through a routed agent is charged the unit price the agent advertised
(AIT per GPU-second, the same unit as a miner's), never its miner's own registered price."""

from decimal import Decimal

import pytest

from aitbc_client.canonical import receipt_verify
from aitbc_site.money import money_str
from apps.accounts.services import api_key_rotate
from apps.ai.models import Job, JobState
from apps.ai.services import dispatch
from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete
from apps.hermes.models import Agent
from apps.hermes.services.advance import workflow_advance
from apps.trading import signing
from apps.trading.facade import account_balances, earnings_of, receipt_get
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def routed_job(api, *, advertised: str, miner_price: str, mode="poll", max_price="5", before_submit=None):
    """A miner registered at `miner_price` whose agent advertises `advertised` for echo, and a client's one-step
    collaboration routed to that agent, advanced once (its job submitted; `before_submit(miner)` runs first):
    (miner, client, client_key, view, job)."""
    miner = gpu_factories.miner(unit_price=miner_price, region="eu", mode=mode)
    miner_key = api_key_rotate(principal_id=miner.principal_id).key
    body = {"name": "echoer", "skills": ["echo"], "unit_price": advertised, "region": "eu", "miner_id": str(miner.id)}
    assert api("hermes", miner_key).post("/v1/agents", body).status_code == 201
    client, key = trading_factories.funded_client("100")
    steps = [{"id": "say", "type": "echo", "payload": {"hi": 1}, "max_price": max_price}]
    created = api("hermes", key).post("/v1/collaborations", {"steps": steps})
    assert created.status_code == 201, created.content
    view = created.json()
    assert view["plan"]["say"]["unit_price"] == money_str(Decimal(advertised))  # the quote the client was shown
    if before_submit:
        before_submit(miner)
    workflow_advance(view["workflow_id"])
    job_id = api("hermes", key).get(f"/v1/collaborations/{view['workflow_id']}").json()["steps"][0]["job_id"]
    return miner, client, key, view, Job.objects.get(id=job_id)


def test_a_job_run_through_an_agent_is_charged_the_price_it_advertised_not_its_miners(api):
    """Given an agent advertising 0.1 AIT per GPU-second whose miner registered at 1 (10x). Then the routed step's
    job carries the quote, is charged 0.1 x the GPU-seconds it ran, and the client's balance and the signed
    receipt show it."""
    miner, client, _, view, job = routed_job(api, advertised="0.1", miner_price="1")
    assert (job.quoted_unit_price, job.pinned_miner_id) == (Decimal("0.1"), miner.id)

    claimed = job_claim(miner=miner)
    assert (claimed.id, claimed.unit_price) == (job.id, Decimal("0.1"))
    ai_factories.held_for(job.id)
    done = job_complete(miner=miner, job_id=job.id, result={"echo": {"hi": 1}}, metrics={"gpu_seconds": 2})
    assert (done.unit_price, done.units, done.price, done.fee) == (
        Decimal("0.1"),
        Decimal(2),
        Decimal("0.2"),
        Decimal("0.005"),
    )
    assert account_balances(client.id) == {**account_balances(client.id), "balance": Decimal("99.8"), "held": 0}
    assert earnings_of(miner.principal_id)["total_earned"] == Decimal("0.195")
    receipt = receipt_get(done.receipt_id)
    assert (receipt["unit_price"], receipt["billed_units"], receipt["price"]) == (
        "0.10000000",
        "2.00000000",
        "0.20000000",
    )
    assert receipt_verify(receipt, signing.published_keys()) is None
    assert workflow_advance(view["workflow_id"]) == "COMPLETED"


def test_the_price_is_the_one_the_agent_advertised_when_routed_even_if_it_raises_it_before_the_step_runs(api):
    def raise_price(miner):
        Agent.objects.filter(miner_id=miner.id).update(unit_price=Decimal(3))  # after the client was quoted

    miner, *_, job = routed_job(api, advertised="0.1", miner_price="1", before_submit=raise_price)
    assert job.quoted_unit_price == Decimal("0.1")
    assert job_claim(miner=miner).unit_price == Decimal("0.1")


def test_a_gpu_worker_whose_own_price_would_not_fit_is_dispatched_the_job_at_the_agents_quote(api, monkeypatch):
    """Given a GPU worker registered at 10 AIT/GPU-s (an echo job's one expected GPU-second would cost 10, over
    the step's max_price of 1) whose agent advertises 0.1. Then dispatch assigns it the job at 0.1."""
    woken = []
    monkeypatch.setattr(dispatch, "gpu_worker_wake", lambda miner_id, job_id: woken.append((miner_id, job_id)))
    miner, _, _, _, job = routed_job(api, advertised="0.1", miner_price="10", mode="celery", max_price="1")
    assert dispatch.job_dispatch(job.id) == miner.id
    assigned = Job.objects.get(id=job.id)
    assert (assigned.state, assigned.unit_price) == (JobState.ASSIGNED, Decimal("0.1"))
    assert job_claim(miner=miner).unit_price == Decimal("0.1")
