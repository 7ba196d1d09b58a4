"""With the embedded (filesystem) broker there are no broker users: it serves one trusted host."""

import pytest

from tests.accounts import factories as accounts_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def test_a_celery_miner_on_the_embedded_broker_gets_no_broker_url(api, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    _, key = accounts_factories.principal("miner")
    body = {"capabilities": {"runners": ["echo"]}, "unit_price": "0.01", "mode": "celery"}
    response = api("gpu", key).post("/v1/miners/register", body)
    assert response.status_code == 200, response.content
    assert response.json()["broker_url"] is None
