import shutil
import subprocess

import pytest

from aitbc_site.domains import DOMAINS
from tests.processes import free_port_offset, wait_for

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.mark.parametrize("service", DOMAINS)
def test_health_names_its_service_and_checks_database_and_broker(api, service):
    response = api(service).get("/health")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["service"] == service
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    assert body["version"]


def test_health_is_503_naming_the_broker_when_the_broker_url_is_wrong(api, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = api("ai").get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error:")
    assert body["detail"].startswith("broker:")
    assert body["code"] == "unhealthy"


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server installed")
def test_health_turns_503_when_a_real_redis_is_stopped(api, settings, tmp_path):
    port = 6379 + free_port_offset([6379], start=100, step=7)
    redis = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
        wait_for(lambda: api("gpu").get("/health").status_code == 200, 10, "health ok with the new redis")
        redis.terminate()
        redis.wait(10)
        response = api("gpu").get("/health")
        assert response.status_code == 503
        assert "broker" in response.json()["detail"]
    finally:
        redis.kill()
