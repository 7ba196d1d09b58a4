import os
import socket
from datetime import datetime
from uuid import UUID

from apps.monitoring.models import WorkerProbe


def worker_probe_record(*, probe_id: UUID, sent_at: datetime) -> WorkerProbe:
    """Records that this process ran a probe; running it twice records it once."""
    probe, _ = WorkerProbe.objects.get_or_create(
        id=probe_id, defaults={"sent_at": sent_at, "hostname": socket.gethostname(), "pid": os.getpid()}
    )
    return probe
