"""/metrics: Prometheus text on every service and the gateway, with request counters that rise and domain gauges."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

from apps.gpu.models import Miner
from apps.gpu.services.miners import miner_heartbeat
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def scrape(client) -> dict:
    """{(sample name, frozenset(labels)): value} of one scrape, parsed as Prometheus text."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def requests_of(samples: dict, service: str, route: str, status: str) -> float:
    labels = frozenset({"service": service, "method": "GET", "route": route, "status": status}.items())
    return samples.get(("aitbc_http_requests_total", labels), 0)


def test_request_counters_rise_by_route_and_status(api):
    client = api("ai")
    before = scrape(client)
    for _ in range(3):
        client.get("/health")
    client.get("/v1/jobs")  # 401: no key
    after = scrape(client)
    assert requests_of(after, "ai", "health", "200") == requests_of(before, "ai", "health", "200") + 3
    assert requests_of(after, "ai", "v1/jobs", "401") == requests_of(before, "ai", "v1/jobs", "401") + 1
    count = frozenset({"service": "ai", "method": "GET", "route": "health"}.items())
    assert after[("aitbc_http_request_duration_seconds_count", count)] >= 3


def test_an_id_in_the_path_is_one_route_not_one_series_per_id(api, make_key):
    client = api("ai")
    _, key = make_key("client")
    for job_id in ("6f1e0a8e-4a6e-4a39-9d37-2d5b1f0c7a11", "0b7d9c3f-1f6e-4f1e-8a51-5c4f2d9e8b22"):
        api("ai", key).get(f"/v1/jobs/{job_id}")
    routes = {dict(labels)["route"] for name, labels in scrape(client) if name == "aitbc_http_requests_total"}
    assert "v1/jobs/<job_id>" in routes
    assert not any("6f1e0a8e" in route for route in routes)


def test_the_ai_service_gauges_jobs_by_state(api):
    client, _ = trading_factories.funded_client("50")
    ai_factories.job(client)
    ai_factories.job(client)
    samples = scrape(api("ai"))
    assert samples[("aitbc_jobs", frozenset({"state": "QUEUED"}.items()))] == 2
    assert samples[("aitbc_jobs", frozenset({"state": "COMPLETED"}.items()))] == 0


def test_the_monitoring_service_gauges_the_whole_platform(api):
    view = gpu_factories.miner(mode="celery")
    reading = {"uuid": gpu_factories.gpu_uuids(view)[0], "utilization_gpu": 75}
    miner_heartbeat(miner=Miner.objects.get(id=view.id), inflight=0, readings=[reading], job_ids=None)

    samples = scrape(api("monitoring"))

    model = frozenset({"model": gpu_factories.H100["name"]}.items())
    assert samples[("aitbc_miners_online", frozenset())] == 1
    assert samples[("aitbc_gpus_online", model)] == 1
    assert samples[("aitbc_gpu_utilization_percent", model)] == 75
    assert samples[("aitbc_queue_depth", frozenset({"queue": f"gpu.{view.id}"}.items()))] == 0
    assert samples[("aitbc_queue_depth", frozenset({"queue": "dispatch"}.items()))] >= 0
    assert samples[("aitbc_settlements_total", frozenset({"kind": "jobs"}.items()))] == 0
    assert samples[("aitbc_open_orders", frozenset({"side": "bid"}.items()))] == 0
    for domain in ("ai", "gpu", "marketplace", "trading", "queues"):
        assert samples[("aitbc_scrape_error", frozenset({"domain": domain}.items()))] == 0


def test_the_gateway_serves_metrics_too(api):
    client = api("gateway")
    before = scrape(client)
    client.get("/openapi")
    after = scrape(client)
    assert requests_of(after, "gateway", "openapi", "200") == requests_of(before, "gateway", "openapi", "200") + 1
