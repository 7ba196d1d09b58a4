import uuid

from celery import shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.monitoring.services import worker_probe_record


@shared_task(name="monitoring.worker_probe")
def worker_probe(probe_id: str | None = None, sent_at: str | None = None) -> dict:
    """A round trip through the broker to a worker and its database (beat sends one every 30 s)."""
    sent = parse_datetime(sent_at) if sent_at else timezone.now()
    probe = worker_probe_record(probe_id=uuid.UUID(probe_id) if probe_id else uuid.uuid4(), sent_at=sent)
    return {"probe_id": str(probe.id), "hostname": probe.hostname, "pid": probe.pid}
