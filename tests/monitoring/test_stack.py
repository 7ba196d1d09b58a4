"""Operators' view of a running stack (`aitbc up`): the dashboard in headless Chromium with charts filled
from real jobs, Prometheus scraping every process, a stopped service shown down with its error, Flower
showing every queue and named task behind basic auth, and `aitbc monitor status`."""

import json
import os
import re
from html.parser import HTMLParser

import httpx
import pytest
from django.core.management import call_command
from django.db import connections
from prometheus_client.parser import text_string_to_metric_families

from aitbc_site.domains import SERVICE_PORTS
from aitbc_site.queues import CONTROL_PLANE_QUEUES
from tests.browser import dom_of, screenshot_of
from tests.gpu.factories import H100
from tests.processes import http_ok, wait_for
from tests.stack import stack_running

# The tests share one stack and what its processes stored: each test only rolls back its own (empty) transaction,
# and the module flushes the databases once at the end.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases="__all__")]
FLOWER_AUTH = ("ops", "flower-secret")


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with stack_running(AITBC_FLOWER_BASIC_AUTH=":".join(FLOWER_AUTH), AITBC_DB_POOL_MAX="3") as running:
        yield running
    with django_db_blocker.unblock():  # what the stack stored must not leak into later tests
        for alias in connections:
            call_command("flush", interactive=False, database=alias, verbosity=0)


@pytest.fixture(scope="module")
def admin(stack):
    return stack.principal("admin", "ops")


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="module")
def activity(stack, admin):
    """Real work through the gateway: a Celery GPU worker runs echo jobs; an H100 miner reports telemetry;
    a job waits in the queue of a GPU worker that is not running; one job fails."""
    gateway = stack.gateway
    client = stack.principal("client", "alice")
    assert stack.aitbc("wallet", "credit", client["principal_id"], "50", key=admin["key"]).returncode == 0

    worker_key = stack.principal("miner", "rig-celery")["key"]
    worker = stack.spawn("gpu-worker", "miner", "worker", "--url", gateway, "--key", worker_key)
    wait_for(lambda: httpx.get(f"{gateway}/gpu/v1/miners/me", headers=bearer(worker_key)).json().get("online"),
             90, "the GPU worker to register")  # fmt: skip

    h100_key = stack.principal("miner", "rig-h100")["key"]
    capabilities = {"gpus": [dict(H100, compute_capability="9.0")], "cuda_version": "13.0", "runners": ["echo"]}
    registered = httpx.post(f"{gateway}/gpu/v1/miners/register", headers=bearer(h100_key),
                            json={"region": "us", "capabilities": capabilities, "unit_price": "0.01"})  # fmt: skip
    assert registered.status_code == 200, registered.text
    for utilization in (35, 90):
        reading = {"uuid": H100["uuid"], "utilization_gpu": utilization, "memory_used_mb": 40000, "temperature_c": 61}
        beat = httpx.post(f"{gateway}/gpu/v1/miners/heartbeat", headers=bearer(h100_key),
                          json={"inflight": 0, "gpus": [reading]})  # fmt: skip
        assert beat.status_code == 200, beat.text

    idle_key = stack.principal("miner", "rig-idle")["key"]
    idle = httpx.post(f"{gateway}/gpu/v1/miners/register", headers=bearer(idle_key),
                      json={"region": "ap", "unit_price": "0.01", "mode": "celery",
                            "capabilities": {"runners": ["echo"]}})  # fmt: skip
    assert idle.status_code == 200, idle.text

    jobs = []
    for i in range(3):
        done = stack.aitbc("job", "submit", "--type", "echo", "--payload", json.dumps({"n": i}), "--max-price", "1",
                           "--wait", "--timeout", "90", "--json", key=client["key"])  # fmt: skip
        assert done.returncode == 0, done.stderr + worker.output()
        jobs.append(json.loads(done.stdout))
    waiting = stack.aitbc("job", "submit", "--type", "echo", "--payload", "{}", "--max-price", "1",
                          "--region", "ap", "--json", key=client["key"])  # fmt: skip
    assert waiting.returncode == 0, waiting.stderr
    yield {"client": client, "jobs": jobs, "idle_queue": idle.json()["queue"], "worker": worker}
    worker.stop()


def dashboard(stack, key: str) -> dict:
    response = httpx.get(f"{stack.gateway}/monitoring/v1/dashboard", headers=bearer(key), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_dashboard_api_shows_live_jobs_queues_gpus_and_every_service_up(stack, admin, activity):
    body = wait_for(lambda: (d := dashboard(stack, admin["key"]))["summary"]["queues"]["depths"].get(
        activity["idle_queue"]) and d, 60, "a message waiting in the idle GPU worker's queue")  # fmt: skip
    assert body["status"] == "ok", body["services"]
    services = {s["name"]: s for s in body["services"]}
    assert set(services) == {*SERVICE_PORTS, "flower"}
    assert all(s["status"] == "up" and s["status_code"] == 200 and s["latency_ms"] > 0 for s in services.values())
    summary = body["summary"]
    assert summary["jobs"]["by_state"]["COMPLETED"] == 3
    assert sum(summary["jobs"]["per_minute"]["series"]["COMPLETED"]) == 3
    assert summary["miners"]["registered"] == 3
    assert summary["miners"]["online"] >= 1  # the GPU worker heartbeats; the H100 rig reported twice, then stopped
    assert {g["model"] for g in summary["gpus"]["by_model"]} == {H100["name"]}
    assert set(CONTROL_PLANE_QUEUES) <= set(summary["queues"]["depths"])
    assert summary["settlements"]["jobs"] == 3
    assert summary["workers"], "the control worker ran no probe"


def test_the_dashboard_page_draws_its_charts_from_real_data_in_chromium(stack, admin, activity):
    def sampled():
        summary = dashboard(stack, admin["key"])["summary"]
        latency = summary["services"]["latency_per_minute"]["series"]
        waiting = summary["queues"]["depth_per_minute"]["series"].get(activity["idle_queue"], [])
        return set(latency) == {*SERVICE_PORTS, "flower"} and any(waiting)

    wait_for(sampled, 60, "beat's health samples: every service, and the idle worker's waiting message")
    page = f"{stack.gateway}/monitoring/dashboard#key={admin['key']}"
    charts = ChartAttributes()
    charts.feed(dom_of(page))

    assert int(charts.body["data-refreshed"]) >= 1, charts.text
    assert int(charts.canvases["chart-jobs"]["data-nonzero"]) >= 1  # COMPLETED and submitted this minute
    assert int(charts.canvases["chart-gpus"]["data-nonzero"]) >= 1  # the H100's heartbeats
    # queue depth and latency: one line per queue and per service, over the samples beat's task stored
    assert int(charts.canvases["chart-queues"]["data-datasets"]) >= len(CONTROL_PLANE_QUEUES) + 2
    assert int(charts.canvases["chart-queues"]["data-nonzero"]) >= 1  # the idle worker's waiting message
    assert int(charts.canvases["chart-latency"]["data-datasets"]) == len(SERVICE_PORTS) + 1
    assert int(charts.canvases["chart-latency"]["data-nonzero"]) >= len(SERVICE_PORTS) + 1
    assert "all services up" in charts.text
    screenshot_of(page, "dashboard.png")


def test_the_page_asks_for_a_key_and_refuses_a_non_admin_one(stack, activity):
    charts = ChartAttributes()
    charts.feed(dom_of(f"{stack.gateway}/monitoring/dashboard#key={activity['client']['key']}"))
    assert "that key is not an admin key" in charts.text
    assert int(charts.body["data-refreshed"]) == 0


def scrape(url: str) -> dict:
    response = httpx.get(f"{url}/metrics", timeout=30)
    assert response.status_code == 200
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def count(samples: dict, **labels) -> float:
    return samples.get(("aitbc_http_requests_total", frozenset(labels.items())), 0)


def test_prometheus_can_scrape_every_process_and_counters_rise(stack):
    for name, url in stack.urls.items():
        before = count(scrape(url), service=name, method="GET", route="health", status="200")
        for _ in range(3):
            httpx.get(f"{url}/health")
        after = count(scrape(url), service=name, method="GET", route="health", status="200")
        assert after == before + 3, name
        assert list((stack.home / "prometheus" / name).glob("*.db")), f"{name} is not in multiprocess mode"
    before = count(scrape(stack.gateway), service="gateway", method="GET", route="ai/*", status="200")
    httpx.get(f"{stack.gateway}/ai/health")
    assert count(scrape(stack.gateway), service="gateway", method="GET", route="ai/*", status="200") == before + 1
    assert any(name.startswith("flower_") for name, _ in scrape(stack.flower))  # Flower's own: the Celery tasks


def test_the_monitoring_metrics_gauge_the_platform(stack, activity):
    samples = scrape(stack.urls["monitoring"])
    assert samples[("aitbc_jobs", frozenset({"state": "COMPLETED"}.items()))] == 3
    assert samples[("aitbc_settlements_total", frozenset({"kind": "jobs"}.items()))] == 3
    assert samples[("aitbc_queue_depth", frozenset({"queue": activity["idle_queue"]}.items()))] >= 1
    assert samples[("aitbc_miners_registered", frozenset())] == 3


def test_a_stopped_service_is_shown_down_with_its_error(stack, admin):
    stack.ctl("stop", "hermes")
    try:
        body = dashboard(stack, admin["key"])
        services = {s["name"]: s for s in body["services"]}
        hermes = services["hermes"]
        assert (body["status"], body["down"]) == ("degraded", ["gateway", "hermes"])  # the gateway's /health says 503
        assert services["gateway"]["error"].startswith("HTTP 503: services down: hermes")
        assert (hermes["status"], hermes["status_code"]) == ("down", None)
        assert hermes["error"].startswith("connection refused")
        shown = stack.aitbc("monitor", "status", key=admin["key"])
        assert shown.returncode == 0, shown.stderr
        assert "DOWN: gateway, hermes" in shown.stdout
        assert re.search(r"^hermes\s+DOWN\s+[\d.]+ ms\s+connection refused", shown.stdout, re.MULTILINE), shown.stdout
    finally:
        stack.ctl("start", "hermes")
    wait_for(lambda: http_ok(f"{stack.urls['hermes']}/health"), 30, "hermes back")


def test_monitor_status_and_watch_print_services_queues_and_miners(stack, admin, activity):
    shown = stack.aitbc("monitor", "status", key=admin["key"])
    assert shown.returncode == 0, shown.stderr
    for line in (r"^gateway\s+UP\s+[\d.]+ ms$", r"^control\s+\d+$", r"^miners: \d+ online of \d+ registered"):
        assert re.search(line, shown.stdout, re.MULTILINE), shown.stdout
    watched = stack.aitbc("monitor", "watch", "--interval", "1", "--count", "2", "--json", key=admin["key"])
    assert watched.returncode == 0, watched.stderr
    assert [json.loads(line)["status"] for line in watched.stdout.splitlines()] == ["ok", "ok"]
    refused = stack.aitbc("monitor", "status", key=activity["client"]["key"])
    assert refused.returncode == 1
    assert "403 forbidden" in refused.stderr


def flower(stack, path: str, **params) -> httpx.Response:
    return httpx.get(f"{stack.flower}{path}", params=params, auth=FLOWER_AUTH, timeout=30)


def test_flower_shows_every_worker_queue_and_named_task_behind_basic_auth(stack, activity):
    assert httpx.get(f"{stack.flower}/api/workers").status_code == 401
    assert httpx.get(f"{stack.flower}/api/workers", auth=("ops", "wrong")).status_code == 401

    # the control-plane worker answers remote control: its queues and tasks
    found = wait_for(lambda: flower(stack, "/api/workers", refresh=1).json(), 60, "Flower to see the control worker")
    queues = {q["name"] for info in found.values() for q in info.get("active_queues", [])}
    assert set(CONTROL_PLANE_QUEUES) <= queues
    registered = {task for info in found.values() for task in info.get("registered", [])}
    assert {"ai.sweep_jobs", "ai.dispatch_job", "trading.seal_block", "monitoring.worker_probe"} <= registered

    # a GPU worker takes no remote control (its broker user has no pidbox), so Flower sees it by its events
    def gpu_workers():
        workers = flower(stack, "/workers", json=1).json()["data"]
        return [w for w in workers if w["hostname"].startswith("gpu-") and w["status"]]

    assert wait_for(gpu_workers, 60, "Flower to see the GPU worker's events")
    tasks = wait_for(lambda: {t["name"] for t in flower(stack, "/api/tasks").json().values()} >= {"ai.sweep_jobs"}
                     and flower(stack, "/api/tasks").json(), 30, "Flower to record beat's tasks")  # fmt: skip
    assert {"ai.sweep_jobs", "gpu.execute_next"} <= {t["name"] for t in tasks.values()}


@pytest.mark.skipif(not os.environ.get("AITBC_REDIS_URL"), reason="Flower reads queue lengths from Redis or AMQP only")
def test_flower_shows_the_length_of_every_control_plane_queue(stack, activity):
    lengths = {q["name"] for q in flower(stack, "/api/queues/length").json()["active_queues"]}
    assert set(CONTROL_PLANE_QUEUES) <= lengths


class ChartAttributes(HTMLParser):
    """The data-* attributes of the page's body and canvases, and its visible text, from a dumped DOM."""

    def __init__(self):
        super().__init__()
        self.body, self.canvases, self.text = {}, {}, ""

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "body":
            self.body = attributes
        if tag == "canvas":
            self.canvases[attributes["id"]] = attributes

    def handle_data(self, data):
        self.text += data
