import os
import socket
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.monitoring.checks import ServiceCheck
from apps.monitoring.models import QueueSample, ServiceSample, WorkerProbe

SAMPLE_RETENTION = timedelta(hours=24)


def worker_probe_record(*, probe_id: UUID, sent_at: datetime) -> WorkerProbe:
    """Records that this process ran a probe; running it twice records it once."""
    probe, _ = WorkerProbe.objects.get_or_create(
        id=probe_id, defaults={"sent_at": sent_at, "hostname": socket.gethostname(), "pid": os.getpid()}
    )
    return probe


def health_samples_record(*, checks: list[ServiceCheck], depths: dict[str, int]) -> tuple[int, int]:
    """Stores one sample per checked service and per queue (a broker that did not answer gives no depths).
    Returns (services, queues) stored."""
    with transaction.atomic(using="monitoring"):
        services = ServiceSample.objects.bulk_create(
            ServiceSample(
                service=check.name,
                status=check.status,
                status_code=check.status_code,
                latency_ms=check.latency_ms,
                error=check.error or "",
            )
            for check in checks
        )
        queues = QueueSample.objects.bulk_create(QueueSample(queue=name, depth=depth) for name, depth in depths.items())
    return len(services), len(queues)


def health_samples_prune(now: datetime | None = None) -> int:
    """Deletes service and queue samples older than SAMPLE_RETENTION; returns how many."""
    before = (now or timezone.now()) - SAMPLE_RETENTION
    return (
        ServiceSample.objects.filter(created_at__lt=before).delete()[0]
        + QueueSample.objects.filter(created_at__lt=before).delete()[0]
    )
