"""The plugin service (API.md, issue 9): registration rules, the marketplace, reviews, yanks, installs that
miners report through the gpu service, plugin job types at submit, and analytics from real job history."""

import pytest

from apps.ai import facade as ai
from apps.gpu.facade import MinerView, miner_for_principal
from apps.plugin.models import Plugin, PluginInstall, PluginReview
from tests import factories

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


class Service:
    """A test client for one service that may be used alongside another's (each request picks its URLconf)."""

    def __init__(self, service_client, name: str):
        self.make, self.name = service_client, name

    def get(self, path, **kwargs):
        return self.make(self.name).get(path, **kwargs)

    def post(self, path, body, **kwargs):
        return self.make(self.name).post(path, body, **kwargs)


@pytest.fixture
def plugin(service_client):
    return Service(service_client, "plugin")


@pytest.fixture
def gpu(service_client):
    return Service(service_client, "gpu")


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def post(client, path, key, body):
    return client.post(path, body, content_type="application/json", headers=auth(key))


def register(plugin, key, **changes):
    return post(plugin, "/v1/plugins/register", key, {**WORDCOUNT, **changes})


def publisher():
    return factories.principal("miner")


def test_a_miner_registers_a_runner_plugin_and_anyone_reads_it(plugin):
    _, key = publisher()
    created = register(plugin, key)
    assert created.status_code == 201, created.content
    view = created.json()
    assert (view["name"], view["version"], view["sha256"], view["yanked"]) == ("wordcount", "1.0.0", SHA, False)
    assert view["installs"] == {"verified": 0, "mismatch": 0, "unregistered": 0, "yanked": 0}
    _, reader = factories.principal("client")
    shown = plugin.get(f"/v1/plugins/{view['plugin_id']}", headers=auth(reader))
    assert shown.status_code == 200
    assert shown.json()["entry_point"] == WORDCOUNT["entry_point"]


def test_the_same_name_and_version_again_is_409_and_a_new_version_is_fine(plugin):
    _, key = publisher()
    assert register(plugin, key).status_code == 201
    again = register(plugin, key, sha256=OTHER_SHA)
    assert again.status_code == 409
    assert again.json()["code"] == "plugin_exists"
    assert register(plugin, key, version="1.1.0", sha256=OTHER_SHA).status_code == 201
    assert Plugin.objects.get(name="wordcount", version="1.0.0").sha256 == SHA


def test_another_publisher_cannot_add_versions_to_a_name_it_does_not_own(plugin):
    _, owner = publisher()
    _, stranger = publisher()
    assert register(plugin, owner).status_code == 201
    taken = register(plugin, stranger, version="2.0.0")
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
def test_malformed_registrations_are_422_naming_the_field_and_store_nothing(plugin, changes, field):
    _, key = publisher()
    response = register(plugin, key, **changes)
    assert response.status_code == 422, response.content
    assert field in response.json()["detail"]
    assert Plugin.objects.count() == 0


def test_a_client_key_may_not_register_a_plugin(plugin):
    _, key = factories.principal("client")
    response = register(plugin, key)
    assert response.status_code == 403
    assert Plugin.objects.count() == 0


def test_the_marketplace_lists_the_newest_unyanked_version_per_plugin_filtered_by_kind(plugin):
    _, key = publisher()
    register(plugin, key)
    newer = register(plugin, key, version="1.1.0", sha256=OTHER_SHA).json()
    register(plugin, key, name="lint-tool", kind="tool", entry_point="lint_tool.cli:main")
    yanked = register(plugin, key, name="old-runner", entry_point="old.runner:Runner").json()
    assert post(plugin, f"/v1/plugins/{yanked['plugin_id']}/yank", key, {"reason": "broken"}).status_code == 200

    runners = plugin.get("/v1/marketplace/plugins?kind=runner", headers=auth(key)).json()
    assert [(p["name"], p["version"]) for p in runners["items"]] == [("wordcount", "1.1.0")]
    assert runners["items"][0]["plugin_id"] == newer["plugin_id"]
    assert runners["items"][0]["versions"] == ["1.0.0", "1.1.0"]
    tools = plugin.get("/v1/marketplace/plugins?kind=tool", headers=auth(key)).json()
    assert [p["name"] for p in tools["items"]] == ["lint-tool"]
    every = plugin.get("/v1/marketplace/plugins", headers=auth(key)).json()
    assert every["count"] == 2
    assert plugin.get("/v1/marketplace/plugins?kind=virus", headers=auth(key)).status_code == 422


def test_reviews_are_one_per_principal_rated_1_to_5_and_never_by_the_publisher(plugin):
    _, owner = publisher()
    plugin_id = register(plugin, owner).json()["plugin_id"]
    _, alice = factories.principal("client")
    _, bob = factories.principal("client")
    path = f"/v1/plugins/{plugin_id}/reviews"
    assert post(plugin, path, alice, {"rating": 5, "comment": "fast"}).status_code == 201
    assert post(plugin, path, bob, {"rating": 2}).status_code == 201
    second = post(plugin, path, alice, {"rating": 1})
    assert second.status_code == 409
    assert second.json()["code"] == "already_reviewed"
    assert post(plugin, path, owner, {"rating": 5}).status_code == 403
    for rating in (0, 6, "five"):
        assert post(plugin, path, bob, {"rating": rating}).status_code == 422
    assert plugin.get(f"/v1/plugins/{plugin_id}", headers=auth(alice)).json()["rating"] == {"average": 3.5, "count": 2}
    listed = plugin.get(path, headers=auth(alice)).json()
    assert sorted(r["rating"] for r in listed["items"]) == [2, 5]
    assert PluginReview.objects.count() == 2


def test_only_the_publisher_or_an_admin_yanks_and_a_stranger_gets_403(plugin):
    _, owner = publisher()
    _, stranger = publisher()
    _, admin = factories.principal("admin")
    first = register(plugin, owner).json()["plugin_id"]
    second = register(plugin, owner, version="1.1.0", sha256=OTHER_SHA).json()["plugin_id"]
    assert post(plugin, f"/v1/plugins/{first}/yank", stranger, {}).status_code == 403
    assert post(plugin, f"/v1/plugins/{first}/yank", owner, {"reason": "bug"}).json()["yanked"] is True
    assert post(plugin, f"/v1/plugins/{first}/yank", owner, {}).status_code == 409
    assert post(plugin, f"/v1/plugins/{second}/yank", admin, {}).status_code == 200
    missing = "00000000-0000-0000-0000-000000000000"
    assert plugin.get(f"/v1/plugins/{missing}", headers=auth(owner)).status_code == 404


def miner_registers(gpu, key, *, sha256=SHA, runners=("echo", "wordcount")):
    report = {**{k: WORDCOUNT[k] for k in ("name", "version", "entry_point")}, "sha256": sha256}
    caps = {"runners": list(runners), "plugins": [{**report, "distribution": "aitbc-wordcount-runner"}]}
    response = post(gpu, "/v1/miners/register", key, {"region": "eu", "capabilities": caps, "unit_price": "0.01"})
    assert response.status_code == 200, response.content
    return response.json()


def test_a_miner_whose_install_matches_keeps_the_runner_and_one_that_does_not_loses_it(plugin, gpu):
    _, owner = publisher()
    plugin_id = register(plugin, owner).json()["plugin_id"]
    good_id, good = publisher()
    bad_id, bad = publisher()

    verified = miner_registers(gpu, good)
    mismatched = miner_registers(gpu, bad, sha256=OTHER_SHA)

    assert [p["status"] for p in verified["plugins"]] == ["verified"]
    assert [p["status"] for p in mismatched["plugins"]] == ["mismatch"]
    assert OTHER_SHA in mismatched["plugins"][0]["detail"] and SHA in mismatched["plugins"][0]["detail"]
    assert gpu.get("/v1/miners/me", headers=auth(good)).json()["capabilities"]["runners"] == ["echo", "wordcount"]
    assert gpu.get("/v1/miners/me", headers=auth(bad)).json()["capabilities"]["runners"] == ["echo"]
    counts = plugin.get(f"/v1/plugins/{plugin_id}", headers=auth(owner)).json()["installs"]
    assert (counts["verified"], counts["mismatch"]) == (1, 1)
    mine = plugin.get(f"/v1/plugins/{plugin_id}/installs", headers=auth(bad)).json()["items"]
    assert [(i["status"], i["sha256"]) for i in mine] == [("mismatch", OTHER_SHA)]


def test_a_miner_listing_a_registered_plugin_type_without_the_plugin_does_not_get_it(plugin, gpu):
    _, owner = publisher()
    register(plugin, owner)
    _, key = publisher()
    caps = {"runners": ["echo", "wordcount"], "plugins": []}
    post(gpu, "/v1/miners/register", key, {"capabilities": caps, "unit_price": "0.01"})
    assert gpu.get("/v1/miners/me", headers=auth(key)).json()["capabilities"]["runners"] == ["echo"]


def test_the_install_check_a_miner_makes_before_running_records_a_changed_install(plugin, gpu):
    _, owner = publisher()
    register(plugin, owner)
    _, key = publisher()
    miner_registers(gpu, key)
    report = {**{k: WORDCOUNT[k] for k in ("name", "version", "entry_point")}, "sha256": SHA}
    assert post(plugin, "/v1/plugins/installs", key, report).json()["status"] == "verified"
    changed = post(plugin, "/v1/plugins/installs", key, {**report, "sha256": OTHER_SHA}).json()
    assert changed["status"] == "mismatch"
    assert PluginInstall.objects.get(name="wordcount").status == "mismatch"
    _, unregistered = publisher()
    assert post(plugin, "/v1/plugins/installs", unregistered, report).status_code == 404


def test_a_plugin_job_type_is_accepted_only_while_a_registered_version_is_not_yanked(plugin, service_client):
    ai_client = Service(service_client, "ai")
    _, key = factories.funded_client("10")
    job = {"type": "wordcount", "payload": {"text": "a b"}, "max_price": "1"}
    refused = post(ai_client, "/v1/jobs", key, job)
    assert refused.status_code == 422
    assert "wordcount" in refused.json()["detail"]

    _, owner = publisher()
    plugin_id = register(plugin, owner).json()["plugin_id"]
    assert post(ai_client, "/v1/jobs", key, job).status_code == 201
    post(plugin, f"/v1/plugins/{plugin_id}/yank", owner, {})
    assert post(ai_client, "/v1/jobs", key, job).status_code == 422


def run_job(miner: MinerView, *, version: str | None, fail: bool = False):
    job = ai.job_claim(miner=miner)
    if fail:
        return ai.job_fail(miner=miner, job_id=job.id, code="runner_error", message="boom", retryable=False)
    metrics = {"gpu_seconds": 0.5} | ({"plugin": {"name": "wordcount", "version": version}} if version else {})
    return ai.job_complete(miner=miner, job_id=job.id, result={"words": 2}, metrics=metrics)


def test_analytics_count_installs_jobs_and_ratings_from_real_data(plugin, gpu, committed):
    _, owner = publisher()
    v1 = register(plugin, owner).json()["plugin_id"]
    register(plugin, owner, version="1.1.0", sha256=OTHER_SHA)
    good_id, good = publisher()
    _, bad = publisher()
    miner_registers(gpu, good)
    miner_registers(gpu, bad, sha256="ef" * 32)
    _, reviewer = factories.principal("client")
    post(plugin, f"/v1/plugins/{v1}/reviews", reviewer, {"rating": 4})
    client, _ = factories.funded_client("20")
    for _ in range(4):
        factories.job(client, type="wordcount", payload={"text": "a b"}, max_price="1")
    runner = miner_for_principal(good_id.id)  # the miner whose install verified
    run_job(runner, version="1.0.0")
    run_job(runner, version="1.0.0")
    run_job(runner, version="1.1.0")
    committed(run_job, runner, version=None, fail=True)

    data = plugin.get("/v1/analytics/plugins", headers=auth(reviewer)).json()
    by_version = {i["version"]: i for i in data["items"]}
    assert by_version["1.0.0"]["jobs"] == {"completed": 3, "failed": 1, "completed_on_this_version": 2}
    assert by_version["1.1.0"]["jobs"]["completed_on_this_version"] == 1
    assert by_version["1.0.0"]["installs"]["verified"] == 1
    assert by_version["1.0.0"]["installs"]["mismatch"] == 1
    assert by_version["1.0.0"]["rating"] == {"average": 4.0, "count": 1}
    assert data["totals"]["jobs_completed"] == 3
    assert data["totals"]["verified_installs"] == 1
    assert data["totals"]["refused_installs"] == 1
    market = plugin.get("/v1/marketplace/plugins", headers=auth(reviewer)).json()["items"]
    assert [(p["version"], p["jobs_completed"]) for p in market] == [("1.1.0", 3)]


def test_a_miner_that_reported_a_plugin_before_it_was_registered_gets_its_jobs_once_registered_until_yanked(
    plugin, gpu
):
    _, key = publisher()
    miner_registers(gpu, key)  # the plugin is not registered yet: its type is dropped
    assert gpu.get("/v1/miners/me", headers=auth(key)).json()["capabilities"]["runners"] == ["echo"]
    _, owner = publisher()

    plugin_id = register(plugin, owner).json()["plugin_id"]

    after = gpu.get("/v1/miners/me", headers=auth(key)).json()["capabilities"]
    assert after["runners"] == ["echo", "wordcount"]
    assert [p["status"] for p in after["plugins"]] == ["verified"]
    post(plugin, f"/v1/plugins/{plugin_id}/yank", owner, {"reason": "bug"})
    assert gpu.get("/v1/miners/me", headers=auth(key)).json()["capabilities"]["runners"] == ["echo"]


def test_the_marketplace_analytics_and_installs_are_paged_by_the_database_and_count_everything(plugin):
    from apps.plugin.services import install_check

    _, key = publisher()
    for name in ("tool-a", "tool-b", "tool-c"):
        register(plugin, key, name=name, kind="tool", entry_point=f"{name.replace('-', '_')}.cli:main")
    runner_id = register(plugin, key).json()["plugin_id"]
    report = {**{k: WORDCOUNT[k] for k in ("name", "version", "entry_point")}, "sha256": SHA}
    for _ in range(2):
        owner, _ = factories.principal("miner")
        install_check(miner_id=factories.miner(who=owner).id, principal_id=owner.id, report=report)
    _, admin = factories.principal("admin")

    pages = [plugin.get(f"/v1/marketplace/plugins?limit=2&offset={o}", headers=auth(key)).json() for o in (0, 2)]
    assert [p["count"] for p in pages] == [4, 4]
    assert [[v["name"] for v in p["items"]] for p in pages] == [["wordcount", "tool-a"], ["tool-b", "tool-c"]]
    analytics = plugin.get("/v1/analytics/plugins?limit=1&offset=3", headers=auth(key)).json()
    assert ([i["name"] for i in analytics["items"]], analytics["count"]) == (["wordcount"], 4)
    assert (analytics["totals"]["versions"], analytics["totals"]["verified_installs"]) == (4, 2)
    installs = plugin.get(f"/v1/plugins/{runner_id}/installs?limit=1", headers=auth(admin)).json()
    assert (len(installs["items"]), installs["count"]) == (1, 2)
    assert plugin.get("/v1/marketplace/plugins?limit=501", headers=auth(key)).status_code == 422
