from uuid import UUID

from django.db.models import Count

from aitbc_site.errors import NotFound
from aitbc_site.money import money_str
from aitbc_site.times import iso
from apps.accounts.facade import PrincipalView
from apps.gpu.facade import miner_is_online
from apps.gpu.models import Gpu, Miner


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
        "jobs_completed": miner.jobs_completed,
        "jobs_failed": miner.jobs_failed,
    }
