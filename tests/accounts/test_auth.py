"""The one authentication and the one error shape, as every service answers them."""

import pytest
from django.db import OperationalError

from apps.accounts.services import principal_revoke

pytestmark = pytest.mark.django_db(databases="__all__")


def test_no_key_is_401_with_the_error_shape(api):
    response = api("gpu").get("/v1/principals/me")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "missing or unknown API key (send Authorization: Bearer KEY)",
        "code": "unauthenticated",
    }


def test_an_unknown_key_is_401(api):
    response = api("ai").get("/v1/principals/me", headers={"Authorization": "Bearer aitbc_nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


@pytest.mark.parametrize("service", ["gpu", "trading", "plugin"])
def test_a_key_works_as_bearer_or_x_api_key_on_every_service(api, make_key, service):
    principal_id, key = make_key("client", "alice")
    client = api(service)
    for headers in ({"Authorization": f"Bearer {key}"}, {"X-Api-Key": key}):
        response = client.get("/v1/principals/me", headers=headers)
        assert response.status_code == 200, response.content
        assert response.json() == {"principal_id": str(principal_id), "name": "alice", "role": "client"}


def test_a_revoked_key_is_401(api, make_key):
    principal_id, key = make_key()
    principal_revoke(principal_id=principal_id)
    response = api("gpu").get("/v1/principals/me", headers={"X-Api-Key": key})
    assert response.status_code == 401


def post_thing(api, body, key):
    return api("tests.accounts.probe_urls", key).post("/probe/things", body)


def test_a_known_key_with_the_wrong_role_is_403(api, make_key):
    _, key = make_key("client")
    response = post_thing(api, {"name": "a", "count": 1}, key)
    assert response.status_code == 403
    assert response.json() == {
        "detail": "this endpoint is for admin keys; yours is a client key",
        "code": "forbidden",
    }


def test_the_right_role_passes(api, make_key):
    _, key = make_key("admin")
    response = post_thing(api, {"name": "a", "count": 1}, key)
    assert response.status_code == 200
    assert response.json() == {"name": "a", "count": 1}


def test_validation_is_422_naming_the_field(api, make_key):
    _, key = make_key("admin")
    response = post_thing(api, {"name": "a", "count": "many"}, key)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["detail"].startswith("count:")


def test_malformed_json_is_400(api, make_key):
    _, key = make_key("admin")
    response = post_thing(api, b"{not json", key)
    assert response.status_code == 400
    assert response.json() == {"detail": "the request body is not valid JSON", "code": "malformed_json"}


def test_a_body_over_the_limit_is_413(api, make_key, settings):
    _, key = make_key("admin")
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = post_thing(api, {"name": "x" * 200, "count": 1}, key)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_an_unknown_path_is_a_json_404(api):
    response = api("hermes").get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_database_without_a_free_connection_is_a_503_to_retry_not_a_500(api, make_key, monkeypatch):
    """What psycopg's pool raises (through Django) when no connection frees up in time, or PostgreSQL is
    out of connection slots: the caller is told to retry, with the error shape."""
    _, key = make_key()

    def exhausted(raw_key):
        raise OperationalError("couldn't get a connection after 10.00 sec")

    monkeypatch.setattr("apps.accounts.auth.principal_for_key", exhausted)
    response = api("trading", key).get("/v1/accounts/me")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "database_unavailable"
    assert "try again" in response.json()["detail"]


def test_a_key_revoked_by_another_process_stops_working_here_within_the_cache_time(api, make_key, monkeypatch):
    # given: a key this process has just checked (so it remembers its principal)
    from django.utils import timezone

    from apps.accounts import auth
    from apps.accounts.models import ApiKey

    _, key = make_key("client")
    assert api("ai", key).get("/v1/principals/me").status_code == 200
    # when: another process revokes it (a plain UPDATE: nothing here hears of it)
    ApiKey.objects.update(revoked_at=timezone.now())
    remembered = api("ai", key).get("/v1/principals/me").status_code
    # then: it works at most until the cache time has passed, and not after
    later = auth.clock() + auth.settings.AITBC_PRINCIPAL_CACHE_S + 0.1
    monkeypatch.setattr(auth, "clock", lambda: later)
    assert remembered == 200
    assert api("ai", key).get("/v1/principals/me").status_code == 401


def test_a_key_revoked_through_the_api_stops_working_at_once_in_this_process(api, make_key):
    # given: a principal with two keys, the first just checked (remembered)
    _, key = make_key("client")
    other = api("ai", key).post("/v1/principals/me/keys", {}).json()["key"]
    assert api("ai", key).get("/v1/principals/me").status_code == 200
    # when: the first is revoked with the second
    first = api("ai", other).get("/v1/principals/me/keys").json()["items"][0]  # oldest first
    assert key.startswith(first["prefix"])
    assert api("ai", other).delete(f"/v1/principals/me/keys/{first['key_id']}").status_code == 204
    # then: this process refuses it at once
    assert api("ai", key).get("/v1/principals/me").status_code == 401
