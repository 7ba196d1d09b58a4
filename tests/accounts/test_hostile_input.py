"""Hostile input to principals and their keys (issue 14): principal creation refuses names and roles no column
holds, key endpoints answer 4xx in the error shape and store nothing, and a header that cannot be a key is 401."""

import json
from datetime import UTC, datetime

import pytest

from aitbc_site.errors import Invalid
from apps.accounts.models import ApiKey, Principal
from apps.accounts.services import api_key_rotate, principal_create
from tests import hostile

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def keys(api, make_key):
    """keys(method, path, raw=None, headers=None): the holder's call (its key, or `headers` instead of it) to
    /v1/principals, which every service serves."""
    principal_id, key = make_key("client", "holder")

    def call(method, path, raw=None, headers=None):
        caller = api("governance") if headers else api("governance", key)
        return caller.request(method, path, raw, headers=headers)

    call.principal_id = principal_id
    return call


def stored() -> list:
    return sorted(ApiKey.objects.values_list("id", "principal_id", "revoked_at", "expires_at"))


def assert_lists_answer(keys):
    for path in ("/v1/principals/me", "/v1/principals/me/keys"):
        response = keys("get", path)
        assert response.status_code == 200, (path, response.content[:300])
        json.loads(response.content, parse_constant=lambda name: pytest.fail(f"{name} in a JSON body"))


@pytest.mark.parametrize("name", hostile.ALL)
@pytest.mark.parametrize("field", ["expires_in_s", "label"], ids=["number_field", "string_field"])
def test_a_hostile_value_in_a_key_rotation_is_refused_and_makes_no_key(keys, field, name):
    before = stored()
    raw = hostile.body_with({"expires_in_s": 3600}, field, hostile.ALL[name])

    response = keys("post", "/v1/principals/me/keys", raw)

    hostile.assert_refused(response, 422)
    assert stored() == before
    assert_lists_answer(keys)


@pytest.mark.parametrize("raw", [str(2**31), str(10**40), "59", "3600.5", "[3600]", "{}", '"soon"'])
def test_an_expiry_beyond_its_bounds_or_of_the_wrong_type_is_422_and_makes_no_key(keys, raw):
    before = stored()

    response = keys("post", "/v1/principals/me/keys", hostile.body_with({}, "expires_in_s", raw))

    hostile.assert_refused(response, 422)
    assert stored() == before
    assert_lists_answer(keys)


QUERY_VALUES = ["%C2%B2", "9" * 5000, "%00", "%01", "NaN", "-1", "%ED%A0%80"]


@pytest.mark.parametrize("value", QUERY_VALUES)
@pytest.mark.parametrize("parameter", ["limit", "offset"])
def test_hostile_paging_of_the_keys_list_is_refused(keys, parameter, value):
    hostile.assert_refused(keys("get", f"/v1/principals/me/keys?{parameter}={value}"))
    assert_lists_answer(keys)


@pytest.mark.parametrize("value", QUERY_VALUES)
def test_revoking_a_hostile_key_id_is_refused_and_revokes_nothing(keys, value):
    before = stored()

    hostile.assert_refused(keys("delete", f"/v1/principals/me/keys/{value}"))

    assert stored() == before
    assert_lists_answer(keys)


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer " + "k" * 10_000}, {"Authorization": "Bearer aitbc_\ud800"},
     {"X-Api-Key": "aitbc_\x00"}, {"X-Api-Key": "aitbc_é"}, {"X-Api-Key": "aitbc_" + "\u00b2" * 50}],
)  # fmt: skip
def test_a_header_that_cannot_be_a_key_is_401_in_the_error_shape(keys, headers):
    hostile.assert_refused(keys("get", "/v1/principals/me", headers=headers), 401)
    assert_lists_answer(keys)


def test_the_keys_list_is_paged_and_counts_every_key(keys):
    for _ in range(3):
        api_key_rotate(principal_id=keys.principal_id)

    pages = [keys("get", f"/v1/principals/me/keys?limit=3&offset={o}").json() for o in (0, 3)]

    assert [(len(p["items"]), p["count"]) for p in pages] == [(3, 4), (1, 4)]
    assert len({k["key_id"] for p in pages for k in p["items"]}) == 4
    assert keys("get", "/v1/principals/me/keys?limit=501").status_code == 422


@pytest.mark.parametrize(
    ("name", "role"),
    [("n" * 101, "client"), ("a\x00b", "client"), ("a\ud800b", "client"), ("tab\there", "client"),
     ("line\nbreak", "miner"), ("ok", "admin\x00"), ("ok", "ADMIN"), ("ok", 5), ("ok", "r" * 10_000)],
)  # fmt: skip
def test_a_principal_whose_name_or_role_no_column_holds_is_refused_and_nothing_is_stored(name, role):
    with pytest.raises(Invalid) as refused:
        principal_create(name=name, role=role)
    assert len(refused.value.detail) < 300  # says what is wrong without echoing all of it
    assert Principal.objects.count() == 0
    assert ApiKey.objects.count() == 0


def test_a_key_expiring_beyond_what_any_reader_holds_is_refused_and_nothing_is_stored():
    with pytest.raises(Invalid, match="expires_at"):
        principal_create(name="far", role="client", expires_at=datetime(9999, 12, 31, tzinfo=UTC))
    assert Principal.objects.count() == 0


def test_a_name_of_exactly_the_column_s_length_is_kept_whole():
    issued = principal_create(name="n" * 100, role="client")
    assert Principal.objects.get(id=issued.principal_id).name == "n" * 100
