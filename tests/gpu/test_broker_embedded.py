"""With the embedded (filesystem) broker there are no broker users: it serves one trusted host."""

import pytest

from tests import factories

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_celery_miner_on_the_embedded_broker_gets_no_broker_url(service_client, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    gpu = service_client("gpu")
    _, key = factories.principal("miner")
    body = {"capabilities": {"runners": ["echo"]}, "unit_price": "0.01", "mode": "celery"}
    response = gpu.post("/v1/miners/register", body, content_type="application/json", headers={"X-Api-Key": key})
    assert response.status_code == 200, response.content
    assert response.json()["broker_url"] is None
