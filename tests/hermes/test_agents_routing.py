"""Agents (owned, validated, isolated) and skill routing (order by price, reliability and load; explained)."""

import pytest

from apps.ai.services.claim import job_claim
from apps.gpu.models import Miner
from tests.accounts import factories as accounts_factories
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.hermes.helpers import history
from tests.runs import runs
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def operator_with_miner(**miner_kwargs):
    """A miner key and its registered miner."""
    miner = gpu_factories.miner(**miner_kwargs)
    from apps.accounts.services import api_key_rotate

    return miner, api_key_rotate(principal_id=miner.principal_id).key


def agent(api, key, miner, name, unit_price, skills=("matmul",), region="eu"):
    body = {"name": name, "skills": list(skills), "unit_price": unit_price, "region": region, "miner_id": str(miner.id)}
    response = api("hermes", key).post("/v1/agents", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_an_operator_creates_lists_updates_and_deletes_its_agent(api):
    miner, key = operator_with_miner()
    created = agent(api, key, miner, "fast-matmul", "0.02", skills=("matmul", "echo"))
    assert created["skills"] == ["echo", "matmul"]
    assert created["reliability"] == 0.5  # no history: the rule of succession starts at 1/2

    listed = api("hermes", key).get("/v1/agents?skill=echo").json()
    assert [a["agent_id"] for a in listed["items"]] == [created["agent_id"]]
    changed = api("hermes", key).patch(f"/v1/agents/{created['agent_id']}", {"unit_price": "0.03"})
    assert changed.json()["unit_price"] == "0.03000000"
    assert api("hermes", key).delete(f"/v1/agents/{created['agent_id']}").status_code == 204
    assert api("hermes", key).get(f"/v1/agents/{created['agent_id']}").status_code == 404


def test_an_agent_on_a_miner_the_caller_does_not_run_is_refused_and_nothing_is_stored(api):
    _, key = operator_with_miner()
    someone_elses = gpu_factories.miner()
    body = {"name": "stolen", "skills": ["echo"], "unit_price": "0.01", "miner_id": str(someone_elses.id)}
    response = api("hermes", key).post("/v1/agents", body)
    assert response.status_code == 422
    assert "not a miner this key runs" in response.json()["detail"]
    assert api("hermes", key).get("/v1/agents").json()["count"] == 0


def test_another_principals_agent_is_404_and_a_client_key_is_403(api):
    miner, key = operator_with_miner()
    created = agent(api, key, miner, "mine", "0.01")
    _, other_key = operator_with_miner()
    assert api("hermes", other_key).get(f"/v1/agents/{created['agent_id']}").status_code == 404
    assert api("hermes", other_key).delete(f"/v1/agents/{created['agent_id']}").status_code == 404
    _, client_key = accounts_factories.principal("client")
    assert api("hermes", client_key).get("/v1/agents").status_code == 403


def test_the_agents_reliability_is_its_miners_completed_and_failed_jobs(api):
    miner, key = operator_with_miner()
    history(miner, completed=3, failed=1)
    created = agent(api, key, miner, "tried", "0.01")
    assert (created["jobs_completed"], created["jobs_failed"]) == (3, 1)
    assert created["reliability"] == pytest.approx(4 / 6)


def test_an_agent_that_claims_a_perfect_record_ranks_below_one_with_a_better_record_the_platform_saw(api):
    """Given an operator whose agent claims to be perfectly reliable and whose miner completed 2 runs but walked
    away from 3 by deregistering mid-run (registering again each time, so it never reports a failure), and one
    whose miner completed 2 and reported 1 failure: the claim is refused, and routing goes by the record."""
    walker, walker_key = operator_with_miner(unit_price="0.01")
    steady, steady_key = operator_with_miner(unit_price="0.01")
    client, client_key = trading_factories.funded_client("100")
    runs(walker, client, "completed", "completed", "miner_left", "miner_left", "miner_left")
    runs(steady, client, "completed", "completed", "failed")
    claim = {"reliability": 1.0, "reputation": 1.0, "success_rate": 1.0, "jobs_completed": 10_000, "jobs_failed": 0}
    body = {"name": "walker", "skills": ["matmul"], "unit_price": "0.01", "region": "eu", "miner_id": str(walker.id)}
    assert api("hermes", walker_key).post("/v1/agents", {**body, **claim}).status_code == 422
    agent(api, walker_key, walker, "walker", "0.01")
    agent(api, steady_key, steady, "steady", "0.01")

    answer = api("hermes", client_key).post("/v1/skills/route", {"skill": "matmul"}).json()
    assert [answer["name"], *(a["name"] for a in answer["alternatives"])] == ["steady", "walker"]
    walked = answer["alternatives"][0]["components"]["reliability"]
    assert walked == {"completed": 2, "failed": 3, "value": pytest.approx(3 / 7)}
    listed = api("hermes", walker_key).get("/v1/agents").json()["items"]
    assert [(a["jobs_completed"], a["jobs_failed"]) for a in listed] == [(2, 3)]


@pytest.fixture
def three_agents(api):
    """cheap but unreliable (1 of 4 runs completed), reliable at twice the price, and expensive."""
    cheap, cheap_key = operator_with_miner(unit_price="0.01")
    history(cheap, completed=1, failed=3)
    reliable, reliable_key = operator_with_miner(unit_price="0.01")
    history(reliable, completed=4)
    dear, dear_key = operator_with_miner(unit_price="0.01")
    history(dear, completed=4)
    return {
        "cheap": agent(api, cheap_key, cheap, "cheap", "0.01"),
        "reliable": agent(api, reliable_key, reliable, "reliable", "0.02"),
        "dear": agent(api, dear_key, dear, "dear", "0.05"),
        "reliable_miner": reliable,
    }


def test_routing_picks_the_cheapest_reliable_agent_and_explains_every_score(api, three_agents):
    _, client_key = accounts_factories.principal("client")
    response = api("hermes", client_key).post("/v1/skills/route", {"skill": "matmul"})
    assert response.status_code == 200, response.content
    answer = response.json()
    assert [answer["name"], *(a["name"] for a in answer["alternatives"])] == ["reliable", "cheap", "dear"]
    assert answer["agent_id"] == three_agents["reliable"]["agent_id"]
    reliability = answer["components"]["reliability"]
    assert (reliability["completed"], reliability["failed"], reliability["value"]) == (4, 0, pytest.approx(5 / 6))
    assert answer["components"]["price"]["effective_price"] == "0.02400000"  # 0.02 / (5/6)
    cheap = answer["alternatives"][0]
    assert cheap["components"]["price"]["effective_price"] == "0.03000000"  # 0.01 / (2/6)
    assert "1 completed, 3 failed" in cheap["explanation"]
    assert answer["score"] > cheap["score"] > answer["alternatives"][1]["score"]


def test_a_busy_agent_loses_to_an_idle_one_on_load(api, three_agents):
    client, client_key = trading_factories.funded_client("100")
    reliable = three_agents["reliable_miner"]
    for _ in range(reliable.concurrency):  # every slot of the reliable agent's miner runs a job
        ai_factories.job(client)
        assert job_claim(miner=reliable) is not None
    answer = api("hermes", client_key).post("/v1/skills/route", {"skill": "matmul"}).json()
    assert answer["name"] == "cheap"
    busy = next(a for a in answer["alternatives"] if a["name"] == "reliable")
    slots = reliable.concurrency
    assert busy["components"]["load"] == {"inflight": slots, "concurrency": slots, "value": 0.0}


def test_no_agent_with_the_skill_is_404_with_the_reason(api, three_agents):
    _, client_key = accounts_factories.principal("client")
    response = api("hermes", client_key).post("/v1/skills/route", {"skill": "inference"})
    assert response.status_code == 404
    assert response.json() == {"detail": "no agent offers the skill 'inference'", "code": "no_agent_for_skill"}


def test_agents_that_do_not_qualify_are_404_naming_each_reason(api, three_agents):
    Miner.objects.filter(id=three_agents["reliable_miner"].id).update(status="OFFLINE")
    _, client_key = accounts_factories.principal("client")
    response = api("hermes", client_key).post("/v1/skills/route", {"skill": "matmul", "max_price": "0.005"})
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "3 agent(s) offer 'matmul' but none qualifies" in detail
    assert "reliable: its miner is offline" in detail
    assert "cheap: unit_price 0.01000000 is above max_price 0.00500000" in detail


def test_region_and_price_filters_leave_the_excluded_agents_named(api, three_agents):
    _, client_key = accounts_factories.principal("client")
    answer = api("hermes", client_key).post("/v1/skills/route", {"skill": "matmul", "max_price": "0.03"}).json()
    assert answer["name"] == "reliable"
    assert [e["name"] for e in answer["excluded"]] == ["dear"]


def test_the_ecosystem_lists_each_skill_with_its_agents_and_prices(api, three_agents):
    _, client_key = accounts_factories.principal("client")
    rows = api("hermes", client_key).get("/v1/ecosystem/skills").json()["items"]
    assert rows == [
        {
            "skill": "matmul",
            "agents": 3,
            "agents_online": 3,
            "min_unit_price": "0.01000000",
            "median_unit_price": "0.02000000",
            "jobs_completed": 9,
            "jobs_failed": 3,
            "reliability": pytest.approx(10 / 14),
            "regions": ["eu"],
        }
    ]


def test_the_agents_list_is_paged_oldest_first_and_counts_every_match(api):
    """Given five agents, two of them for matmul only: a page holds at most `limit` of them from `offset`, a skill
    filter pages over the matching ones, and `count` is every match; a limit over 500 is refused."""
    miner, key = operator_with_miner()
    skills = [("echo",), ("matmul",), ("echo",), ("matmul",), ("echo",)]
    made = [agent(api, key, miner, f"a{i}", "0.01", skills=s)["agent_id"] for i, s in enumerate(skills)]

    page = api("hermes", key).get("/v1/agents?limit=2&offset=1").json()
    assert ([a["agent_id"] for a in page["items"]], page["count"]) == (made[1:3], 5)
    echo = api("hermes", key).get("/v1/agents?skill=echo&limit=2&offset=1").json()
    assert ([a["agent_id"] for a in echo["items"]], echo["count"]) == ([made[2], made[4]], 3)
    assert api("hermes", key).get("/v1/agents?limit=501").status_code == 422
