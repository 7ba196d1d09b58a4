from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.db.models import Avg, Count
from django.db.models.functions import TruncMinute
from django.utils import timezone

from aitbc_site.errors import NotFound
from aitbc_site.money import money_str
from aitbc_site.parameters import parameter_get
from aitbc_site.times import iso
from apps.accounts.facade import PrincipalView
from apps.gpu.contracts import miner_track_records
from apps.gpu.models import Gpu, GpuSample, GpuStatus, Miner, MinerMode, MinerStatus


def online_since():
    return timezone.now() - timedelta(seconds=3 * parameter_get("heartbeat_interval_s"))


def miner_is_online(miner: Miner) -> bool:
    return (
        miner.status == MinerStatus.ONLINE
        and miner.last_heartbeat_at is not None
        and miner.last_heartbeat_at >= online_since()
    )


def miner_get_for(principal: PrincipalView, miner_id: UUID) -> Miner:
    """The miner, if this principal owns it or is an admin; 404 exactly as if it did not exist."""
    miner = Miner.objects.filter(id=miner_id).first()
    if miner is None or (miner.principal_id != principal.id and not principal.is_admin):
        raise NotFound(f"no miner {miner_id}")
    return miner


def gpu_status_counts() -> dict:
    rows = Gpu.objects.values("model", "status").annotate(n=Count("id")).order_by("model", "status")
    by_model: dict[str, dict] = {}
    for row in rows:
        by_model.setdefault(row["model"], {})[row["status"]] = row["n"]
    return {"total": sum(r["n"] for r in rows), "by_model": by_model}


def gpu_view(gpu: Gpu) -> dict:
    return {
        "gpu_id": gpu.id,
        "uuid": gpu.uuid,
        "model": gpu.model,
        "memory_mb": gpu.memory_mb,
        "compute_capability": gpu.compute_capability,
        "cuda_version": gpu.cuda_version,
        "status": gpu.status,
        "utilization_gpu": gpu.utilization_gpu,
        "memory_used_mb": gpu.memory_used_mb,
        "temperature_c": gpu.temperature_c,
        "power_w": gpu.power_w,
        "last_seen_at": iso(gpu.last_seen_at),
    }


def miner_view(miner: Miner) -> dict:
    return {
        "miner_id": miner.id,
        "principal_id": miner.principal_id,
        "name": miner.name,
        "region": miner.region,
        "mode": miner.mode,
        "concurrency": miner.concurrency,
        "unit_price": money_str(miner.unit_price),
        "capabilities": miner.capabilities,
        "status": miner.status,
        "online": miner_is_online(miner),
        "last_heartbeat_at": iso(miner.last_heartbeat_at),
        "inflight": miner.inflight,
        **_record(miner),
    }


def _record(miner: Miner) -> dict:
    """The miner's runs as the platform recorded them (the same record its reputation is scored from)."""
    record = miner_track_records([miner.id]).get(miner.id, {"completed": 0, "failed": 0})
    return {"jobs_completed": record["completed"], "jobs_failed": record["failed"]}


def gpus_by_model() -> list[dict]:
    """Per GPU model: how many GPUs are registered, how many are on online miners, and their mean
    utilisation, memory use, temperature and power from the latest heartbeat readings of those online."""
    totals = {row["model"]: row["n"] for row in Gpu.objects.values("model").annotate(n=Count("id")).order_by()}
    online = (
        Gpu.objects.filter(miner__status=MinerStatus.ONLINE, miner__last_heartbeat_at__gte=online_since())
        .exclude(status=GpuStatus.OFFLINE)
        .values("model")
        .annotate(
            n=Count("id"),
            utilization=Avg("utilization_gpu"),
            memory_used=Avg("memory_used_mb"),
            temperature=Avg("temperature_c"),
            power=Avg("power_w"),
        )
        .order_by()
    )
    live: dict[str, Mapping[str, Any]] = {row["model"]: row for row in online}
    return [
        {
            "model": model,
            "count": count,
            "online": live.get(model, {}).get("n", 0),
            "utilization_avg": _rounded(live.get(model, {}).get("utilization")),
            "memory_used_mb_avg": _rounded(live.get(model, {}).get("memory_used")),
            "temperature_c_avg": _rounded(live.get(model, {}).get("temperature")),
            "power_w_avg": _rounded(live.get(model, {}).get("power")),
        }
        for model, count in sorted(totals.items())
    ]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def gpu_utilization_per_minute(minutes: int = 30) -> dict:
    """Mean GPU utilisation per model and minute over the last `minutes` minutes, from heartbeat samples;
    None for a minute with no sample. {"minutes": [ISO minute, ...], "series": {model: [percent, ...]}}"""
    now = timezone.now().replace(second=0, microsecond=0)
    axis = [now - timedelta(minutes=minutes - 1 - i) for i in range(minutes)]
    rows = (
        GpuSample.objects.filter(created_at__gte=axis[0], utilization_gpu__isnull=False)
        .annotate(minute=TruncMinute("created_at"))
        .values("gpu__model", "minute")
        .annotate(utilization=Avg("utilization_gpu"))
        .order_by()
    )
    by_model: dict[str, dict] = {}
    for row in rows:
        by_model.setdefault(row["gpu__model"], {})[row["minute"].replace(second=0, microsecond=0)] = row["utilization"]
    return {
        "minutes": [iso(m) for m in axis],
        "series": {model: [_rounded(values.get(m)) for m in axis] for model, values in sorted(by_model.items())},
    }


def miner_counts() -> dict:
    """Registered (not deregistered) miners, and how many of them are online (heartbeat recent)."""
    registered = Miner.objects.filter(status=MinerStatus.ONLINE)
    return {
        "registered": registered.count(),
        "online": registered.filter(last_heartbeat_at__gte=online_since()).count(),
        "offline": Miner.objects.filter(status=MinerStatus.OFFLINE).count(),
    }


def celery_miner_ids() -> list[UUID]:
    """Every registered miner that runs a Celery GPU worker (each has its own queue)."""
    return list(
        Miner.objects.filter(mode=MinerMode.CELERY, status=MinerStatus.ONLINE)
        .order_by("created_at")
        .values_list("id", flat=True)
    )
