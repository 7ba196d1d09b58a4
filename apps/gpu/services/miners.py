"""Miners and their GPUs: registration, heartbeats (telemetry and lease renewal), capabilities, leaving."""

from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from aitbc_site.errors import Conflict, Invalid, NotFound
from apps.accounts.facade import PrincipalView
from apps.gpu.contracts import leases_renew, miner_jobs_requeue
from apps.gpu.models import Gpu, GpuSample, GpuStatus, Miner, MinerStatus
from apps.gpu.services.broker import broker_user_remove
from apps.plugin import facade as plugin

DB = "gpu"
SAMPLE_RETENTION = timedelta(days=2)


def _gpus_taken(uuids) -> Conflict:
    named = f"GPU {uuids[0]} is" if len(uuids) == 1 else f"GPUs {', '.join(uuids)} are"
    return Conflict(f"{named} registered to another miner: a GPU belongs to one miner", code="gpu_taken")


def gpus_sync(*, miner: Miner, capabilities: dict) -> None:
    """The registry follows what the miner reports: new GPUs added, missing ones marked OFFLINE. A GPU's NVML UUID
    is one miner's: 409 gpu_taken when another miner has one of these, and the caller's transaction, rolled back,
    stores nothing of the report."""
    reported = {g["uuid"]: g for g in capabilities.get("gpus") or [] if g.get("uuid")}
    if taken := set(Gpu.objects.filter(uuid__in=reported).exclude(miner=miner).values_list("uuid", flat=True)):
        raise _gpus_taken(sorted(taken))
    for uuid, gpu in reported.items():
        try:
            Gpu.objects.update_or_create(
                miner=miner,
                uuid=uuid,
                defaults={
                    "model": gpu.get("name", ""),
                    "memory_mb": int(gpu.get("memory_mb") or 0),
                    "compute_capability": gpu.get("compute_capability") or "",
                    "cuda_version": capabilities.get("cuda_version") or "",
                    "status": GpuStatus.AVAILABLE,
                    "last_seen_at": timezone.now(),
                },
            )
        except IntegrityError:  # another miner registered it since the check above
            raise _gpus_taken([uuid]) from None
    miner.gpus.exclude(uuid__in=reported).update(status=GpuStatus.OFFLINE, updated_at=timezone.now())


def miner_register(
    *,
    principal: PrincipalView,
    region: str,
    concurrency: int,
    capabilities: dict,
    unit_price: Decimal,
    name: str = "",
    mode: str = "poll",
) -> Miner:
    """Registers the miner of this key; registering again updates the same miner and brings it online."""
    fields = {
        "region": region,
        "concurrency": concurrency,
        "capabilities": capabilities,
        "unit_price": unit_price,
        "name": name or principal.name,
        "mode": mode,
        "status": MinerStatus.ONLINE,
        "last_heartbeat_at": timezone.now(),
    }
    with transaction.atomic(using=DB):
        miner, _ = Miner.objects.select_for_update().update_or_create(principal_id=principal.id, defaults=fields)
        gpus_sync(miner=miner, capabilities=capabilities)
        return _plugins_checked(miner)


def _plugins_checked(miner: Miner) -> Miner:
    """The plugin registry checks the miner's runner plugins; runners it does not vouch for are dropped.
    Called inside the transaction that stores the capabilities, so no reader sees them unchecked."""
    checked = plugin.capabilities_checked(
        miner_id=miner.id, principal_id=miner.principal_id, capabilities=miner.capabilities
    )
    Miner.objects.filter(id=miner.id).update(capabilities=checked, updated_at=timezone.now())
    miner.capabilities = checked
    return miner


def miner_plugins_recheck(*, miner: Miner) -> Miner:
    """The registry's verdicts on the plugins this miner reported, applied again (after a plugin it reported
    was registered or yanked): a type dropped while unregistered comes back once verified, and goes if yanked."""
    with transaction.atomic(using=DB):
        miner = Miner.objects.select_for_update().get(id=miner.id)  # not a stale copy: a newer report wins
        capabilities = dict(miner.capabilities or {})
        reported = {str(p.get("name", "")) for p in capabilities.get("plugins") or ()}
        capabilities["runners"] = sorted({*(capabilities.get("runners") or ()), *reported} - {""})
        miner.capabilities = capabilities
        return _plugins_checked(miner)


def _readings_checked(readings: list[dict], gpus: dict) -> None:
    """422, before anything is recorded, for a heartbeat with two readings of one GPU or more readings than the
    miner has GPUs: one sample per GPU per heartbeat."""
    uuids: list[str] = [r.get("uuid", "") for r in readings]
    if twice := sorted({u for u in uuids if uuids.count(u) > 1}):
        raise Invalid(f"gpus: one reading per GPU per heartbeat; {twice[0]} has {uuids.count(twice[0])}")
    if len(readings) > len(gpus):
        raise Invalid(f"gpus: {len(readings)} readings, but this miner has {len(gpus)} registered GPU(s)")


def miner_heartbeat(*, miner: Miner, inflight: int, readings: list[dict], job_ids: list[UUID] | None) -> int:
    """Records liveness and GPU telemetry (one reading per registered GPU at most), and renews the leases of the
    jobs the miner holds."""
    gpus = {g.uuid: g for g in miner.gpus.all()}
    _readings_checked(readings, gpus)
    now = timezone.now()
    with transaction.atomic(using=DB):
        Miner.objects.filter(id=miner.id).update(last_heartbeat_at=now, inflight=inflight, updated_at=now)
        for reading in readings:
            gpu = gpus.get(reading.get("uuid", ""))
            if gpu is None:
                continue
            values = {k: reading.get(k) for k in ("utilization_gpu", "memory_used_mb", "temperature_c", "power_w")}
            busy = (values["utilization_gpu"] or 0) > 0
            Gpu.objects.filter(id=gpu.id).update(
                **values, last_seen_at=now, status=GpuStatus.BUSY if busy else GpuStatus.AVAILABLE, updated_at=now
            )
            GpuSample.objects.create(gpu=gpu, **values)
    return leases_renew(miner_id=miner.id, job_ids=job_ids)


def miner_capabilities_set(*, miner: Miner, capabilities: dict) -> Miner:
    with transaction.atomic(using=DB):
        miner = Miner.objects.select_for_update().get(id=miner.id)  # one capabilities write at a time
        miner.capabilities = capabilities
        miner.save(update_fields=["capabilities", "updated_at"])
        gpus_sync(miner=miner, capabilities=capabilities)
        return _plugins_checked(miner)


def miner_deregister(*, miner: Miner) -> int:
    """The miner goes OFFLINE, its broker user goes, and its jobs go back to the queue; returns how many were
    requeued."""
    Miner.objects.filter(id=miner.id).update(status=MinerStatus.OFFLINE, updated_at=timezone.now())
    broker_user_remove(miner_id=miner.id)
    miner.gpus.update(status=GpuStatus.OFFLINE, updated_at=timezone.now())
    return miner_jobs_requeue(miner_id=miner.id)


def gpu_samples_prune() -> int:
    return GpuSample.objects.filter(created_at__lt=timezone.now() - SAMPLE_RETENTION).delete()[0]


def miner_registered(principal: PrincipalView) -> Miner:
    """The registered (not deregistered) miner of this key; 404 otherwise."""
    miner = Miner.objects.filter(principal_id=principal.id, status=MinerStatus.ONLINE).first()
    if miner is None:
        raise NotFound("this miner key has no registered miner: POST /v1/miners/register first")
    return miner
