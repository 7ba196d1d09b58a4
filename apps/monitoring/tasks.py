import asyncio
import uuid

from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.monitoring.checks import services_check
from apps.monitoring.selectors import queue_depths
from apps.monitoring.services import health_samples_prune, health_samples_record, worker_probe_record


@shared_task(name="monitoring.worker_probe")
def worker_probe(probe_id: str | None = None, sent_at: str | None = None) -> dict:
    """A round trip through the broker to a worker and its database (beat sends one every 30 s)."""
    sent = (parse_datetime(sent_at) if sent_at else None) or timezone.now()  # a malformed moment: now
    probe = worker_probe_record(probe_id=uuid.UUID(probe_id) if probe_id else uuid.uuid4(), sent_at=sent)
    return {"probe_id": str(probe.id), "hostname": probe.hostname, "pid": probe.pid}


@shared_task(name="monitoring.sample_health", soft_time_limit=12, time_limit=14)
def sample_health() -> dict:
    """Checks every service and reads every queue's depth, stores one sample of each (the dashboard's history),
    and prunes samples past their retention. Each run stores its own moment, so a rerun only adds a sample."""
    checks = asyncio.run(services_check())
    queues = queue_depths()
    services, stored_queues = health_samples_record(checks=checks, depths=queues["depths"])
    return {
        "services": services,
        "queues": stored_queues,
        "broker_error": queues["error"],
        "pruned": health_samples_prune(),
    }
