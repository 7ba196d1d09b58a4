"""Keys can be rotated (a new key works beside the old one until it is revoked) and can expire."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import ApiKey
from apps.accounts.selectors import principal_for_key
from tests.processes import process_env, run_aitbc

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_rotated_key_works_beside_the_old_one_until_the_old_one_is_revoked(api, make_key):
    _, old = make_key("client", "rotator")
    rotated = api("trading", old).post("/v1/principals/me/keys", {})
    assert rotated.status_code == 201
    new = rotated.json()["key"]
    assert api("trading", new).get("/v1/principals/me").status_code == 200
    assert api("trading", old).get("/v1/principals/me").status_code == 200
    old_id = ApiKey.objects.exclude(id=rotated.json()["key_id"]).get(principal__name="rotator").id
    assert api("trading", new).delete(f"/v1/principals/me/keys/{old_id}").status_code == 204
    assert api("trading", old).get("/v1/principals/me").status_code == 401
    assert api("trading", new).get("/v1/principals/me").status_code == 200


def test_an_expired_key_is_401(api, make_key):
    _, key = make_key("client")
    ApiKey.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api("ai", key).get("/v1/principals/me")
    assert response.status_code == 401


def test_a_key_with_an_expiry_shows_it_and_works_until_then(api, make_key):
    _, key = make_key("miner")
    made = api("gpu", key).post("/v1/principals/me/keys", {"expires_in_s": 3600}).json()
    assert made["expires_at"] is not None
    assert api("gpu", made["key"]).get("/v1/principals/me").status_code == 200
    listed = api("gpu", key).get("/v1/principals/me/keys").json()
    assert listed["count"] == 2
    assert all("key" not in row for row in listed["items"])  # a key is shown once


def test_nobody_revokes_another_principal_s_key(api, make_key):
    _, mine = make_key("client")
    _, theirs = make_key("client", "other")
    their_key = ApiKey.objects.get(principal__name="other")
    response = api("ai", mine).delete(f"/v1/principals/me/keys/{their_key.id}")
    assert response.status_code == 404
    assert principal_for_key(theirs) is not None


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_the_cli_rotates_expires_and_revokes_one_key(tmp_path):
    env = process_env(tmp_path)
    first = json.loads(run_aitbc(["keys", "create", "--role", "client", "--name", "c", "--json"], env).stdout)
    rotated = json.loads(
        run_aitbc(["keys", "rotate", first["principal_id"], "--expires-in", "2d", "--json"], env).stdout
    )
    assert rotated["expires_at"] is not None
    assert principal_for_key(first["key"]) is not None and principal_for_key(rotated["key"]) is not None
    revoked = run_aitbc(["keys", "revoke", first["principal_id"], "--key", first["key_id"]], env)
    assert revoked.returncode == 0, revoked.stderr
    assert principal_for_key(first["key"]) is None
    assert principal_for_key(rotated["key"]) is not None
    bad = run_aitbc(["keys", "rotate", first["principal_id"], "--expires-in", "soon"], env)
    assert bad.returncode == 2 and "30d" in bad.stderr


def test_a_key_that_expires_cannot_make_one_that_outlives_it(api, make_key):
    _, key = make_key("client")
    expiring = api("ai", key).post("/v1/principals/me/keys", {"expires_in_s": 3600}).json()
    for asked in ({}, {"expires_in_s": 7 * 86400}):
        made = api("ai", expiring["key"]).post("/v1/principals/me/keys", asked).json()
        assert made["expires_at"] == expiring["expires_at"]
    sooner = api("ai", expiring["key"]).post("/v1/principals/me/keys", {"expires_in_s": 60}).json()
    assert sooner["expires_at"] < expiring["expires_at"]
