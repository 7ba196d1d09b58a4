"""The plugin service (API.md, issue 9): registration rules, the marketplace, reviews, yanks, installs that
miners report through the gpu service, plugin job types at submit, and analytics from real job history."""

import pytest

from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete, job_fail
from apps.gpu.facade import MinerView, miner_for_principal
from apps.plugin.models import Plugin, PluginInstall, PluginReview
from tests.accounts import factories as accounts_factories
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")
SHA = "ab" * 32
OTHER_SHA = "cd" * 32
WORDCOUNT = {
    "name": "wordcount",
    "version": "1.0.0",
    "kind": "runner",
    "entry_point": "aitbc_wordcount.runner:WordCountRunner",
    "sha256": SHA,
    "description": "counts words",
}


def register(api, key, **changes):
    return api("plugin", key).post("/v1/plugins/register", {**WORDCOUNT, **changes})


def publisher():
    return accounts_factories.principal("miner")


def test_a_miner_registers_a_runner_plugin_and_anyone_reads_it(api):
    _, key = publisher()
    created = register(api, key)
    assert created.status_code == 201, created.content
    view = created.json()
    assert (view["name"], view["version"], view["sha256"], view["yanked"]) == ("wordcount", "1.0.0", SHA, False)
    assert view["installs"] == {"verified": 0, "mismatch": 0, "unregistered": 0, "yanked": 0}
    _, reader = accounts_factories.principal("client")
    shown = api("plugin", reader).get(f"/v1/plugins/{view['plugin_id']}")
    assert shown.status_code == 200
    assert shown.json()["entry_point"] == WORDCOUNT["entry_point"]


def test_the_same_name_and_version_again_is_409_and_a_new_version_is_fine(api):
    _, key = publisher()
    assert register(api, key).status_code == 201
    again = register(api, key, sha256=OTHER_SHA)
    assert again.status_code == 409
    assert again.json()["code"] == "plugin_exists"
    assert register(api, key, version="1.1.0", sha256=OTHER_SHA).status_code == 201
    assert Plugin.objects.get(name="wordcount", version="1.0.0").sha256 == SHA


def test_another_publisher_cannot_add_versions_to_a_name_it_does_not_own(api):
    _, owner = publisher()
    _, stranger = publisher()
    assert register(api, owner).status_code == 201
    taken = register(api, stranger, version="2.0.0")
    assert taken.status_code == 409
    assert taken.json()["code"] == "name_taken"
    assert Plugin.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sha256": "ab" * 31}, "sha256"),
        ({"sha256": "zz" * 32}, "sha256"),
        ({"sha256": "ab" * 32 + "0"}, "sha256"),
        ({"sha256": ""}, "sha256"),
        ({"entry_point": "aitbc_wordcount.runner"}, "entry_point"),
        ({"entry_point": "aitbc-wordcount:Runner"}, "entry_point"),
        ({"entry_point": ":Runner"}, "entry_point"),
        ({"entry_point": "mod:Runner:x"}, "entry_point"),
        ({"name": "Word Count"}, "name"),
        ({"name": "echo"}, "name"),
        ({"version": "latest"}, "version"),
        ({"kind": "virus"}, "kind"),
        ({"state": "verified"}, "state"),
    ],
)
def test_malformed_registrations_are_422_naming_the_field_and_store_nothing(api, changes, field):
    _, key = publisher()
    response = register(api, key, **changes)
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]
    assert Plugin.objects.count() == 0


def test_a_client_key_may_not_register_a_plugin(api):
    _, key = accounts_factories.principal("client")
    response = register(api, key)
    assert response.status_code == 403
    assert Plugin.objects.count() == 0


def test_the_marketplace_lists_the_newest_unyanked_version_per_plugin_filtered_by_kind(api):
    _, key = publisher()
    register(api, key)
    newer = register(api, key, version="1.1.0", sha256=OTHER_SHA).json()
    register(api, key, name="lint-tool", kind="tool", entry_point="lint_tool.cli:main")
    yanked = register(api, key, name="old-runner", entry_point="old.runner:Runner").json()
    assert api("plugin", key).post(f"/v1/plugins/{yanked['plugin_id']}/yank", {"reason": "broken"}).status_code == 200

    runners = api("plugin", key).get("/v1/marketplace/plugins?kind=runner").json()
    assert [(p["name"], p["version"]) for p in runners["items"]] == [("wordcount", "1.1.0")]
    assert runners["items"][0]["plugin_id"] == newer["plugin_id"]
    assert runners["items"][0]["versions"] == ["1.0.0", "1.1.0"]
    tools = api("plugin", key).get("/v1/marketplace/plugins?kind=tool").json()
    assert [p["name"] for p in tools["items"]] == ["lint-tool"]
    every = api("plugin", key).get("/v1/marketplace/plugins").json()
    assert every["count"] == 2
    assert api("plugin", key).get("/v1/marketplace/plugins?kind=virus").status_code == 422


def test_reviews_are_one_per_principal_rated_1_to_5_and_never_by_the_publisher(api):
    _, owner = publisher()
    plugin_id = register(api, owner).json()["plugin_id"]
    _, alice = accounts_factories.principal("client")
    _, bob = accounts_factories.principal("client")
    path = f"/v1/plugins/{plugin_id}/reviews"
    assert api("plugin", alice).post(path, {"rating": 5, "comment": "fast"}).status_code == 201
    assert api("plugin", bob).post(path, {"rating": 2}).status_code == 201
    second = api("plugin", alice).post(path, {"rating": 1})
    assert second.status_code == 409
    assert second.json()["code"] == "already_reviewed"
    assert api("plugin", owner).post(path, {"rating": 5}).status_code == 403
    for rating in (0, 6, "five"):
        assert api("plugin", bob).post(path, {"rating": rating}).status_code == 422
    assert api("plugin", alice).get(f"/v1/plugins/{plugin_id}").json()["rating"] == {"average": 3.5, "count": 2}
    listed = api("plugin", alice).get(path).json()
    assert sorted(r["rating"] for r in listed["items"]) == [2, 5]
    assert PluginReview.objects.count() == 2


def test_only_the_publisher_or_an_admin_yanks_and_a_stranger_gets_403(api):
    _, owner = publisher()
    _, stranger = publisher()
    _, admin = accounts_factories.principal("admin")
    first = register(api, owner).json()["plugin_id"]
    second = register(api, owner, version="1.1.0", sha256=OTHER_SHA).json()["plugin_id"]
    assert api("plugin", stranger).post(f"/v1/plugins/{first}/yank", {}).status_code == 403
    assert api("plugin", owner).post(f"/v1/plugins/{first}/yank", {"reason": "bug"}).json()["yanked"] is True
    assert api("plugin", owner).post(f"/v1/plugins/{first}/yank", {}).status_code == 409
    assert api("plugin", admin).post(f"/v1/plugins/{second}/yank", {}).status_code == 200
    missing = "00000000-0000-0000-0000-000000000000"
    assert api("plugin", owner).get(f"/v1/plugins/{missing}").status_code == 404


def miner_registers(api, key, *, sha256=SHA, runners=("echo", "wordcount")):
    report = {**{k: WORDCOUNT[k] for k in ("name", "version", "entry_point")}, "sha256": sha256}
    caps = {"runners": list(runners), "plugins": [{**report, "distribution": "aitbc-wordcount-runner"}]}
    response = api("gpu", key).post("/v1/miners/register", {"region": "eu", "capabilities": caps, "unit_price": "0.01"})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_miner_whose_install_matches_keeps_the_runner_and_one_that_does_not_loses_it(api):
    _, owner = publisher()
    plugin_id = register(api, owner).json()["plugin_id"]
    good_id, good = publisher()
    bad_id, bad = publisher()

    verified = miner_registers(api, good)
    mismatched = miner_registers(api, bad, sha256=OTHER_SHA)

    assert [p["status"] for p in verified["plugins"]] == ["verified"]
    assert [p["status"] for p in mismatched["plugins"]] == ["mismatch"]
    assert OTHER_SHA in mismatched["plugins"][0]["detail"] and SHA in mismatched["plugins"][0]["detail"]
    assert api("gpu", good).get("/v1/miners/me").json()["capabilities"]["runners"] == ["echo", "wordcount"]
    assert api("gpu", bad).get("/v1/miners/me").json()["capabilities"]["runners"] == ["echo"]
    counts = api("plugin", owner).get(f"/v1/plugins/{plugin_id}").json()["installs"]
    assert (counts["verified"], counts["mismatch"]) == (1, 1)
    mine = api("plugin", bad).get(f"/v1/plugins/{plugin_id}/installs").json()["items"]
    assert [(i["status"], i["sha256"]) for i in mine] == [("mismatch", OTHER_SHA)]


def test_a_miner_listing_a_registered_plugin_type_without_the_plugin_does_not_get_it(api):
    _, owner = publisher()
    register(api, owner)
    _, key = publisher()
    caps = {"runners": ["echo", "wordcount"], "plugins": []}
    api("gpu", key).post("/v1/miners/register", {"capabilities": caps, "unit_price": "0.01"})
    assert api("gpu", key).get("/v1/miners/me").json()["capabilities"]["runners"] == ["echo"]


def test_the_install_check_a_miner_makes_before_running_records_a_changed_install(api):
    _, owner = publisher()
    register(api, owner)
    _, key = publisher()
    miner_registers(api, key)
    report = {**{k: WORDCOUNT[k] for k in ("name", "version", "entry_point")}, "sha256": SHA}
    assert api("plugin", key).post("/v1/plugins/installs", report).json()["status"] == "verified"
    changed = api("plugin", key).post("/v1/plugins/installs", {**report, "sha256": OTHER_SHA}).json()
    assert changed["status"] == "mismatch"
    assert PluginInstall.objects.get(name="wordcount").status == "mismatch"
    _, unregistered = publisher()
    assert api("plugin", unregistered).post("/v1/plugins/installs", report).status_code == 404


def test_a_plugin_job_type_is_accepted_only_while_a_registered_version_is_not_yanked(api):
    _, key = trading_factories.funded_client("10")
    job = {"type": "wordcount", "payload": {"text": "a b"}, "max_price": "1"}
    refused = api("ai", key).post("/v1/jobs", job)
    assert refused.status_code == 422
    assert "wordcount" in refused.json()["detail"]

    _, owner = publisher()
    plugin_id = register(api, owner).json()["plugin_id"]
    assert api("ai", key).post("/v1/jobs", job).status_code == 201
    api("plugin", owner).post(f"/v1/plugins/{plugin_id}/yank", {})
    assert api("ai", key).post("/v1/jobs", job).status_code == 422


def run_job(miner: MinerView, *, version: str | None, fail: bool = False):
    job = job_claim(miner=miner)
    if fail:
        return job_fail(miner=miner, job_id=job.id, code="runner_error", message="boom", retryable=False)
    metrics = {"gpu_seconds": 0.5} | ({"plugin": {"name": "wordcount", "version": version}} if version else {})
    return job_complete(miner=miner, job_id=job.id, result={"words": 2}, metrics=metrics)


def test_analytics_count_installs_jobs_and_ratings_from_real_data(api, committed):
    _, owner = publisher()
    v1 = register(api, owner).json()["plugin_id"]
    register(api, owner, version="1.1.0", sha256=OTHER_SHA)
    good_id, good = publisher()
    _, bad = publisher()
    miner_registers(api, good)
    miner_registers(api, bad, sha256="ef" * 32)
    _, reviewer = accounts_factories.principal("client")
    api("plugin", reviewer).post(f"/v1/plugins/{v1}/reviews", {"rating": 4})
    client, _ = trading_factories.funded_client("20")
    for _ in range(4):
        ai_factories.job(client, type="wordcount", payload={"text": "a b"}, max_price="1")
    runner = miner_for_principal(good_id.id)  # the miner whose install verified
    run_job(runner, version="1.0.0")
    run_job(runner, version="1.0.0")
    run_job(runner, version="1.1.0")
    committed(run_job, runner, version=None, fail=True)

    data = api("plugin", reviewer).get("/v1/analytics/plugins").json()
    by_version = {i["version"]: i for i in data["items"]}
    assert by_version["1.0.0"]["jobs"] == {"completed": 3, "failed": 1, "completed_on_this_version": 2}
    assert by_version["1.1.0"]["jobs"]["completed_on_this_version"] == 1
    assert by_version["1.0.0"]["installs"]["verified"] == 1
    assert by_version["1.0.0"]["installs"]["mismatch"] == 1
    assert by_version["1.0.0"]["rating"] == {"average": 4.0, "count": 1}
    assert data["totals"]["jobs_completed"] == 3
    assert data["totals"]["verified_installs"] == 1
    assert data["totals"]["refused_installs"] == 1
    market = api("plugin", reviewer).get("/v1/marketplace/plugins").json()["items"]
    assert [(p["version"], p["jobs_completed"]) for p in market] == [("1.1.0", 3)]


def test_a_miner_that_reported_a_plugin_before_it_was_registered_gets_its_jobs_once_registered_until_yanked(api):
    _, key = publisher()
    miner_registers(api, key)  # the plugin is not registered yet: its type is dropped
    assert api("gpu", key).get("/v1/miners/me").json()["capabilities"]["runners"] == ["echo"]
    _, owner = publisher()

    plugin_id = register(api, owner).json()["plugin_id"]

    after = api("gpu", key).get("/v1/miners/me").json()["capabilities"]
    assert after["runners"] == ["echo", "wordcount"]
    assert [p["status"] for p in after["plugins"]] == ["verified"]
    api("plugin", owner).post(f"/v1/plugins/{plugin_id}/yank", {"reason": "bug"})
    assert api("gpu", key).get("/v1/miners/me").json()["capabilities"]["runners"] == ["echo"]


def test_the_marketplace_analytics_and_installs_are_paged_by_the_database_and_count_everything(api):
    from apps.plugin.services import install_check

    _, key = publisher()
    for name in ("tool-a", "tool-b", "tool-c"):
        register(api, key, name=name, kind="tool", entry_point=f"{name.replace('-', '_')}.cli:main")
    runner_id = register(api, key).json()["plugin_id"]
    report = {**{k: WORDCOUNT[k] for k in ("name", "version", "entry_point")}, "sha256": SHA}
    for _ in range(2):
        owner, _ = accounts_factories.principal("miner")
        install_check(miner_id=gpu_factories.miner(who=owner).id, principal_id=owner.id, report=report)
    _, admin = accounts_factories.principal("admin")

    pages = [api("plugin", key).get(f"/v1/marketplace/plugins?limit=2&offset={o}").json() for o in (0, 2)]
    assert [p["count"] for p in pages] == [4, 4]
    assert [[v["name"] for v in p["items"]] for p in pages] == [["wordcount", "tool-a"], ["tool-b", "tool-c"]]
    analytics = api("plugin", key).get("/v1/analytics/plugins?limit=1&offset=3").json()
    assert ([i["name"] for i in analytics["items"]], analytics["count"]) == (["wordcount"], 4)
    assert (analytics["totals"]["versions"], analytics["totals"]["verified_installs"]) == (4, 2)
    installs = api("plugin", admin).get(f"/v1/plugins/{runner_id}/installs?limit=1").json()
    assert (len(installs["items"]), installs["count"]) == (1, 2)
    assert api("plugin", key).get("/v1/marketplace/plugins?limit=501").status_code == 422
