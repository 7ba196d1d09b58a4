"""What the dashboard shows, read from each domain through its facade, the broker and the host."""

import math
import os
from datetime import timedelta

import psutil
from django.conf import settings
from django.db.models import Avg, Count, Max
from django.db.models.functions import TruncMinute
from django.utils import timezone

from aitbc_site.celery import app
from aitbc_site.money import money_str
from aitbc_site.queues import CONTROL_PLANE_QUEUES
from aitbc_site.times import iso
from apps.ai import facade as ai
from apps.gpu import facade as gpu
from apps.marketplace import facade as marketplace
from apps.monitoring.models import QueueSample, ServiceSample, WorkerProbe
from apps.trading import facade as trading

HISTORY_MINUTES = 30
WORKER_SEEN_WITHIN = timedelta(minutes=2)


def finite(value):
    """`value` with every float in it that is not finite as None: JSON has no NaN or Infinity, and one reading
    stored before the input door existed (a GPU at Infinity degrees) must not make the dashboard unreadable."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


def broker_kind() -> str:
    return "redis" if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "filesystem"


def queue_depths() -> dict:
    """Messages waiting in each Celery queue: the control plane's and every GPU worker's (`gpu.<miner_id>`).

    Asked of the broker through kombu: LLEN of the queue's lists on Redis, the queue's message files on
    the embedded filesystem broker."""
    names = [*CONTROL_PLANE_QUEUES, *gpu.gpu_queue_names()]
    try:
        with app.connection_for_read() as connection:
            channel = connection.default_channel
            depths = {
                name: channel.queue_declare(queue=name, durable=True, auto_delete=False).message_count for name in names
            }
    except Exception as exc:  # a broker that does not answer is the answer
        return {"broker": broker_kind(), "depths": {}, "total": None, "error": f"{type(exc).__name__}: {exc}"}
    return {"broker": broker_kind(), "depths": depths, "total": sum(depths.values()), "error": None}


def _minute_axis(minutes: int) -> list:
    now = timezone.now().replace(second=0, microsecond=0)
    return [now - timedelta(minutes=minutes - 1 - i) for i in range(minutes)]


def _per_minute(queryset, key: str, aggregate, minutes: int) -> dict:
    """`aggregate` of the samples per `key` and minute over the last `minutes` minutes; None for a minute with
    no sample. {"minutes": [ISO minute, ...], "series": {key: [value, ...]}}"""
    axis = _minute_axis(minutes)
    rows = (
        queryset.filter(created_at__gte=axis[0])
        .annotate(minute=TruncMinute("created_at"))
        .values(key, "minute")
        .annotate(value=aggregate)
        .order_by()
    )
    by_key: dict[str, dict] = {}
    for row in rows:
        by_key.setdefault(row[key], {})[row["minute"]] = row["value"]
    return {
        "minutes": [iso(m) for m in axis],
        "series": {
            name: [None if values.get(m) is None else round(values[m], 2) for m in axis]
            for name, values in sorted(by_key.items())
        },
    }


def latency_per_minute(minutes: int = HISTORY_MINUTES) -> dict:
    """Mean measured latency (ms) of each service per minute, from the stored health checks."""
    return _per_minute(ServiceSample.objects.all(), "service", Avg("latency_ms"), minutes)


def queue_depth_per_minute(minutes: int = HISTORY_MINUTES) -> dict:
    """Most messages waiting in each queue per minute, from the stored depth samples."""
    return _per_minute(QueueSample.objects.all(), "queue", Max("depth"), minutes)


def workers_seen() -> list[dict]:
    """Celery workers that ran a probe lately (beat sends one every 30 s): host, pid, last seen."""
    since = timezone.now() - WORKER_SEEN_WITHIN
    rows = (
        WorkerProbe.objects.filter(created_at__gte=since)
        .values("hostname", "pid")
        .annotate(last_seen=Max("created_at"), probes=Count("id"))
        .order_by("hostname", "pid")
    )
    return [{**row, "last_seen": iso(row["last_seen"])} for row in rows]


def _ledger() -> dict:
    totals = trading.ledger_totals()
    return {k: money_str(v) if k not in ("entries", "escrow_holds") else v for k, v in totals.items()}


def dashboard_summary() -> dict:
    """Jobs, miners, GPUs, queues, service latency, ledger, chain and orders, each read from its own domain
    (a reading that is not a finite number shows as null)."""
    summary = {
        "generated_at": iso(timezone.now()),
        "jobs": {"by_state": ai.jobs_by_state(), "per_minute": ai.jobs_per_minute(HISTORY_MINUTES)},
        "miners": gpu.miner_counts(),
        "gpus": {
            "by_model": gpu.gpus_by_model(),
            "utilization_per_minute": gpu.gpu_utilization_per_minute(HISTORY_MINUTES),
        },
        "queues": {**queue_depths(), "depth_per_minute": queue_depth_per_minute()},
        "services": {"latency_per_minute": latency_per_minute()},
        "workers": workers_seen(),
        "ledger": _ledger(),
        "settlements": trading.settlement_counts(),
        "blocks": trading.chain_head(),
        "orders": marketplace.open_orders(),
    }
    return finite(summary)


def host_metrics() -> dict:
    """This host's CPU, memory and disk (the disk that holds AITBC_HOME)."""
    memory, swap = psutil.virtual_memory(), psutil.swap_memory()
    disk = psutil.disk_usage(str(settings.AITBC_HOME))
    load = os.getloadavg() if hasattr(os, "getloadavg") else (None, None, None)
    host = {
        "generated_at": iso(timezone.now()),
        "cpu": {
            "percent": psutil.cpu_percent(interval=0.2),
            "count": psutil.cpu_count(),
            "load_1m": load[0],
            "load_5m": load[1],
            "load_15m": load[2],
        },
        "memory": {
            "total_bytes": memory.total,
            "used_bytes": memory.total - memory.available,
            "available_bytes": memory.available,
            "percent": memory.percent,
            "swap_percent": swap.percent,
        },
        "disk": {
            "path": str(settings.AITBC_HOME),
            "total_bytes": disk.total,
            "used_bytes": disk.used,
            "free_bytes": disk.free,
            "percent": disk.percent,
        },
    }
    return finite(host)
