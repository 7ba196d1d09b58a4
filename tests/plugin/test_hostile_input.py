"""Hostile input to every plugin write (issue 14): each class answers 4xx in the error shape, stores nothing, and
every plugin list still answers 200 with a JSON body afterwards."""

import json
from types import SimpleNamespace

import pytest

from apps.plugin.models import Plugin, PluginInstall, PluginReview
from apps.plugin.services import PluginSpec, install_check, plugin_register
from tests import hostile
from tests.accounts import factories as accounts_factories
from tests.gpu import factories as gpu_factories

pytestmark = pytest.mark.django_db(databases="__all__")
SHA = "ab" * 32
WORDCOUNT = {"name": "wordcount", "version": "1.0.0", "kind": "runner", "sha256": SHA,
             "entry_point": "aitbc_wordcount.runner:WordCountRunner", "description": "counts words"}  # fmt: skip
INSTALL = {k: WORDCOUNT[k] for k in ("name", "version", "entry_point", "sha256")}


@pytest.fixture
def world(api):
    """A publisher with a registered runner plugin, a miner that installed it, a reviewer, and the client."""
    publisher, publisher_key = accounts_factories.principal("miner")
    plugin = plugin_register(principal=publisher, spec=PluginSpec(**WORDCOUNT))
    owner, miner_key = accounts_factories.principal("miner")
    miner = gpu_factories.miner(who=owner)
    install_check(miner_id=miner.id, principal_id=owner.id, report=INSTALL)
    _, reviewer_key = accounts_factories.principal("client")

    def call(method, path, raw=None, key=reviewer_key):
        return api("plugin", key).request(method, path, raw)

    return SimpleNamespace(call=call, plugin=plugin, publisher_key=publisher_key, miner_key=miner_key,
                           reviewer_key=reviewer_key)  # fmt: skip


def stored() -> dict:
    return {
        "plugins": sorted(Plugin.objects.values_list("id", "version", "yanked_at", "yank_reason", "description")),
        "installs": sorted(PluginInstall.objects.values_list("id", "version", "status", "reported_sha256", "detail")),
        "reviews": sorted(PluginReview.objects.values_list("id", "rating", "comment")),
    }


def strict_json(response):
    return json.loads(response.content, parse_constant=lambda name: pytest.fail(f"{name} in a JSON body"))


def assert_lists_answer(world):
    plugin_id = world.plugin.id
    for path in ("/v1/plugins", f"/v1/plugins/{plugin_id}", f"/v1/plugins/{plugin_id}/reviews",
                 f"/v1/plugins/{plugin_id}/installs", "/v1/marketplace/plugins", "/v1/analytics/plugins"):  # fmt: skip
        response = world.call("get", path)
        assert response.status_code == 200, (path, response.content[:300])
        strict_json(response)


def writes(world) -> dict:
    """Each write: (path, a valid body, its string field, its number field, the key that may make it)."""
    plugin_id = world.plugin.id
    newer = {**WORDCOUNT, "version": "1.1.0"}
    return {
        "register": ("/v1/plugins/register", newer, "description", "size", world.publisher_key),
        "install": ("/v1/plugins/installs", INSTALL, "sha256", "size", world.miner_key),
        "yank": (f"/v1/plugins/{plugin_id}/yank", {"reason": "broken"}, "reason", "severity", world.publisher_key),
        "review": (f"/v1/plugins/{plugin_id}/reviews", {"rating": 4}, "comment", "rating", world.reviewer_key),
    }


WRITES = ["register", "install", "yank", "review"]


@pytest.mark.parametrize("name", hostile.TEXTS)
@pytest.mark.parametrize("slot", [2, 3], ids=["string_field", "number_field"])
@pytest.mark.parametrize("write", WRITES)
def test_nul_or_a_lone_surrogate_in_any_field_of_any_write_is_422_naming_it_and_changes_nothing(
    world, write, slot, name
):
    path, body, *fields, key = writes(world)[write]
    field = fields[slot - 2]
    before = stored()

    response = world.call("post", path, hostile.body_with(body, field, hostile.TEXTS[name]), key=key)

    assert field in hostile.assert_refused(response, 422)["detail"]
    assert stored() == before
    assert_lists_answer(world)


@pytest.mark.parametrize("name", hostile.NUMBERS)
@pytest.mark.parametrize("slot", [2, 3], ids=["string_field", "number_field"])
@pytest.mark.parametrize("write", WRITES)
def test_nan_infinity_or_1e400_in_any_field_of_any_write_is_422_and_changes_nothing(world, write, slot, name):
    path, body, *fields, key = writes(world)[write]
    before = stored()

    response = world.call("post", path, hostile.body_with(body, fields[slot - 2], hostile.NUMBERS[name]), key=key)

    hostile.assert_refused(response, 422)
    assert stored() == before
    assert_lists_answer(world)


BEYOND = [
    ("review", "rating", str(2**31)),
    ("review", "rating", str(10**40)),
    ("review", "rating", "4.5"),
    ("review", "rating", '"four"'),
    ("review", "rating", "[4]"),
    ("review", "comment", '"' + "c" * 2001 + '"'),
    ("review", "comment", "{}"),
    ("register", "name", '"' + "n" * 65 + '"'),
    ("register", "version", "1.2"),
    ("register", "sha256", str(10**64)),
    ("register", "kind", "5"),
    ("register", "description", '"' + "d" * 2001 + '"'),
    ("register", "entry_point", '{"module": "x"}'),
    ("install", "name", '["wordcount"]'),
    ("install", "version", '"' + "9" * 65 + '"'),
    ("install", "sha256", "12"),
    ("install", "error", '"' + "e" * 501 + '"'),
    ("yank", "reason", '"' + "r" * 501 + '"'),
    ("yank", "reason", "false"),
    ("yank", "yanked_at", '"2020-01-01T00:00:00Z"'),
]


@pytest.mark.parametrize(("write", "field", "raw"), BEYOND)
def test_values_beyond_their_columns_or_of_the_wrong_type_are_422_and_change_nothing(world, write, field, raw):
    path, body, *_, key = writes(world)[write]
    before = stored()

    response = world.call("post", path, hostile.body_with(body, field, raw), key=key)

    hostile.assert_refused(response, 422)
    assert stored() == before
    assert_lists_answer(world)


QUERY_VALUES = ["%C2%B2", "9" * 5000, "%00", "%01", "NaN", "-1", "%ED%A0%80"]
TYPED = ["/v1/plugins?kind={}", "/v1/plugins?limit={}", "/v1/marketplace/plugins?kind={}",
         "/v1/marketplace/plugins?offset={}", "/v1/analytics/plugins?limit={}", "/v1/plugins/{}",
         "/v1/plugins/{}/reviews", "/v1/plugins/{}/installs"]  # fmt: skip


@pytest.mark.parametrize("value", QUERY_VALUES)
@pytest.mark.parametrize("path", TYPED)
def test_hostile_typed_filters_and_path_ids_are_refused_and_the_lists_still_answer(world, path, value):
    hostile.assert_refused(world.call("get", path.format(value)))
    assert_lists_answer(world)


@pytest.mark.parametrize("value", QUERY_VALUES[:2])
@pytest.mark.parametrize("path", ["/v1/plugins/{plugin_id}/installs?limit={value}",
                                  "/v1/plugins/{plugin_id}/reviews?offset={value}"])  # fmt: skip
def test_hostile_paging_of_one_plugins_lists_is_refused(world, path, value):
    hostile.assert_refused(world.call("get", path.format(plugin_id=world.plugin.id, value=value)), 422)


@pytest.mark.parametrize("value", ["%00", "%01", "9" * 5000])
@pytest.mark.parametrize("path", ["/v1/plugins?name={}", "/v1/marketplace/plugins?q={}"])
def test_a_free_text_filter_holding_what_no_field_may_hold_is_refused(world, path, value):
    hostile.assert_refused(world.call("get", path.format(value)), 422)
    assert_lists_answer(world)


@pytest.mark.parametrize("value", ["%C2%B2", "NaN", "%ED%A0%80", "%25", "_", "%5C"])
@pytest.mark.parametrize("path", ["/v1/plugins?name={}", "/v1/marketplace/plugins?q={}"])
def test_a_free_text_filter_with_odd_text_finds_nothing(world, path, value):
    listed = world.call("get", path.format(value))
    assert (listed.status_code, strict_json(listed)["count"]) == (200, 0)
