"""The dashboard's history: `monitoring.sample_health` stores what the real checks and the broker said, the
summary aggregates the stored samples per minute, and samples past their retention are pruned."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from aitbc_site.celery import app
from aitbc_site.queues import CONTROL_PLANE_QUEUES, gpu_queue
from aitbc_site.times import iso
from apps.monitoring.models import QueueSample, ServiceSample
from apps.monitoring.services import SAMPLE_RETENTION, health_samples_prune
from apps.monitoring.tasks import sample_health
from tests.gpu import factories as gpu_factories
from tests.processes import free_port_offset

pytestmark = pytest.mark.django_db(databases="__all__")


def serving(status: int, detail: str | None = None):
    """An HTTP server whose every GET answers `status` (with {"detail": ...} when given)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            payload = json.dumps({"detail": detail, "code": "unhealthy"} if detail else {}).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


@pytest.fixture
def services(settings):
    """Three services for the checks to find: one up, one answering 503, one stopped; Flower up."""
    up, broken = serving(200), serving(503, "database: error: connection refused")
    stopped = 1 + free_port_offset([0], start=43000, step=7)
    settings.AITBC_SERVICE_HOST = "127.0.0.1"
    settings.AITBC_SERVICE_PORTS = {"up": up.server_address[1], "broken": broken.server_address[1], "stopped": stopped}
    settings.AITBC_FLOWER_PORT = up.server_address[1]
    yield
    up.shutdown()
    broken.shutdown()


@pytest.fixture
def waiting_message():
    """One message waiting in the queue of a Celery GPU worker that is not running."""
    queue = gpu_queue(str(gpu_factories.miner(mode="celery").id))
    app.send_task("tests.never_run", queue=queue)
    yield queue
    with app.connection_for_write() as connection:
        connection.default_channel.queue_purge(queue)


def test_the_task_stores_a_sample_per_service_and_queue_from_real_checks(services, waiting_message):
    stored = sample_health()

    assert (stored["services"], stored["queues"], stored["broker_error"]) == (4, len(CONTROL_PLANE_QUEUES) + 1, None)
    checks = {s.service: s for s in ServiceSample.objects.all()}
    assert set(checks) == {"up", "broken", "stopped", "flower"}
    assert (checks["up"].status, checks["up"].status_code, checks["up"].error) == ("up", 200, "")
    assert checks["up"].latency_ms > 0
    assert (checks["broken"].status, checks["broken"].status_code) == ("down", 503)
    assert checks["broken"].error == "HTTP 503: database: error: connection refused"
    assert (checks["stopped"].status, checks["stopped"].status_code) == ("down", None)
    assert checks["stopped"].error.startswith("connection refused")
    depths = dict(QueueSample.objects.values_list("queue", "depth"))
    assert set(depths) == {*CONTROL_PLANE_QUEUES, waiting_message}
    assert depths[waiting_message] == 1


def test_a_second_run_adds_a_sample_of_its_own(services):
    sample_health()
    sample_health()
    assert ServiceSample.objects.filter(service="up").count() == 2


def stored(model, minutes_ago: float, **fields):
    row = model.objects.create(**fields)
    model.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))


def test_the_summary_aggregates_stored_samples_per_minute(api, admin_key):
    three_ago = (timezone.now() - timedelta(minutes=3)).replace(second=0, microsecond=0)
    for latency in (10, 30):
        row = ServiceSample.objects.create(service="gateway", status="up", status_code=200, latency_ms=latency)
        ServiceSample.objects.filter(pk=row.pk).update(created_at=three_ago + timedelta(seconds=latency))
    for depth in (3, 7, 2):
        row = QueueSample.objects.create(queue="control", depth=depth)
        QueueSample.objects.filter(pk=row.pk).update(created_at=three_ago + timedelta(seconds=10 + depth))
    stored(ServiceSample, 45, service="gateway", status="up", status_code=200, latency_ms=999)  # outside the window
    stored(QueueSample, 45, queue="control", depth=99)
    stored(ServiceSample, 0, service="hermes", status="down", latency_ms=4.5, error="connection refused")

    summary = api("monitoring", admin_key).get("/v1/dashboard/summary").json()

    latency = summary["services"]["latency_per_minute"]
    assert len(latency["minutes"]) == 30
    minute = latency["minutes"].index(iso(three_ago))
    assert latency["series"]["gateway"][minute] == 20  # the mean of 10 and 30
    assert [v for v in latency["series"]["gateway"] if v is not None] == [20]
    assert [v for v in latency["series"]["hermes"] if v is not None] == [4.5]
    depths = summary["queues"]["depth_per_minute"]
    assert depths["minutes"] == latency["minutes"]
    assert depths["series"]["control"][minute] == 7  # the most that waited in that minute
    assert [v for v in depths["series"]["control"] if v is not None] == [7]


def test_pruning_removes_samples_past_their_retention_only():
    old_minutes = SAMPLE_RETENTION.total_seconds() / 60 + 5
    stored(ServiceSample, old_minutes, service="old", status="up", latency_ms=1)
    stored(QueueSample, old_minutes, queue="old", depth=1)
    stored(ServiceSample, 60, service="recent", status="up", latency_ms=1)
    stored(QueueSample, 60, queue="recent", depth=1)

    assert health_samples_prune() == 2
    assert list(ServiceSample.objects.values_list("service", flat=True)) == ["recent"]
    assert list(QueueSample.objects.values_list("queue", flat=True)) == ["recent"]
