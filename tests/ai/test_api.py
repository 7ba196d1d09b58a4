"""The ai service's HTTP contract (API.md): codes, shapes, and who may see what."""

import pytest

from tests.accounts import factories as accounts_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def submit(api, key, body=None, **headers):
    body = body or {"type": "echo", "payload": {"x": 1}, "max_price": "2"}
    return api("ai", key).post("/v1/jobs", body, headers=headers)


def test_submit_answers_201_with_the_job_view(api):
    _, key = trading_factories.funded_client()
    response = submit(api, key)
    assert response.status_code == 201
    view = response.json()
    assert view["state"] == "QUEUED"
    assert view["type"] == "echo"
    assert view["max_price"] == "2.00000000"
    assert view["waiting_reason"] == "no miner is online"
    assert set(view) >= {"job_id", "assigned_miner_id", "attempts", "requested_at", "expires_at", "receipt_id"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"type": "echo", "max_price": "-1"}, 422, "max_price"),
        ({"type": "echo", "max_price": "abc"}, 422, "max_price"),
        ({"type": "echo", "max_price": "1.123456789"}, 422, "max_price"),
        ({"type": "echo", "max_price": "1", "ttl_seconds": 59}, 422, "ttl_seconds"),
        ({"type": "warp", "max_price": "1"}, 422, "type"),
        ({"type": "echo", "max_price": "1", "state": "COMPLETED"}, 422, "state"),
        ({"type": "echo", "max_price": "1", "constraints": {"gpu": "x"}}, 422, "constraints.gpu"),
        ({"type": "echo", "max_price": "1000"}, 402, None),
    ],
)
def test_bad_input_gets_a_clear_4xx_and_stores_nothing(api, body, status, field):
    from apps.ai.models import Job

    _, key = trading_factories.funded_client("10")
    response = submit(api, key, body)
    assert response.status_code == status, response.content
    assert response.json()["detail"]
    if field:
        assert field in response.json()["detail"]
    assert Job.objects.count() == 0


def test_malformed_json_is_400(api):
    _, key = trading_factories.funded_client()
    response = api("ai", key).post("/v1/jobs", "{nope")
    assert (response.status_code, response.json()["code"]) == (400, "malformed_json")


def test_another_client_s_job_is_404_everywhere(api):
    _, owner = trading_factories.funded_client()
    _, stranger = trading_factories.funded_client()
    job_id = submit(api, owner).json()["job_id"]
    for path in ("", "/result", "/receipt"):
        assert api("ai", stranger).get(f"/v1/jobs/{job_id}{path}").status_code == 404
    assert api("ai", stranger).post(f"/v1/jobs/{job_id}/cancel").status_code == 404
    assert api("ai", stranger).get("/v1/jobs").json() == {"items": [], "count": 0}


def test_a_miner_key_cannot_submit(api):
    _, key = accounts_factories.principal("miner")
    assert submit(api, key).status_code == 403


def test_result_is_425_until_finished_and_409_after_cancel(api):
    _, key = trading_factories.funded_client()
    job_id = submit(api, key).json()["job_id"]
    early = api("ai", key).get(f"/v1/jobs/{job_id}/result")
    assert (early.status_code, early.json()["code"]) == (425, "not_finished")
    assert api("ai", key).post(f"/v1/jobs/{job_id}/cancel").json()["state"] == "CANCELED"
    assert api("ai", key).post(f"/v1/jobs/{job_id}/cancel").status_code == 409
    late = api("ai", key).get(f"/v1/jobs/{job_id}/result")
    assert (late.status_code, late.json()["code"]) == (409, "job_canceled")


def test_the_idempotency_key_header_replays_the_first_answer(api):
    _, key = trading_factories.funded_client("10")
    first = submit(api, key, **{"Idempotency-Key": "k1"})
    again = submit(api, key, **{"Idempotency-Key": "k1"})
    assert again.status_code == 201
    assert again.json()["job_id"] == first.json()["job_id"]
    other = submit(api, key, {"type": "echo", "max_price": "3"}, **{"Idempotency-Key": "k1"})
    assert other.status_code == 409


def test_list_filters_by_state_and_type(api):
    _, key = trading_factories.funded_client()
    submit(api, key)
    submit(api, key, {"type": "sleep", "payload": {"seconds": 1}, "max_price": "2"})
    assert api("ai", key).get("/v1/jobs?type=sleep").json()["count"] == 1
    assert api("ai", key).get("/v1/jobs?state=QUEUED").json()["count"] == 2
    assert api("ai", key).get("/v1/jobs?state=BOGUS").status_code == 422
