"""What other apps may know about miners: plain values, never ORM objects."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

from django.utils import timezone


@dataclass(frozen=True)
class MinerView:
    id: UUID
    principal_id: UUID
    region: str
    mode: str
    concurrency: int
    unit_price: Decimal
    runners: tuple[str, ...]
    models: tuple[str, ...]
    gpus: tuple[tuple[str, int], ...]  # (model name, memory MiB)
    cuda_version: str
    online: bool

    @classmethod
    def from_model(cls, miner, *, online: bool) -> "MinerView":
        caps = miner.capabilities or {}
        return cls(
            id=miner.id,
            principal_id=miner.principal_id,
            region=miner.region,
            mode=miner.mode,
            concurrency=miner.concurrency,
            unit_price=miner.unit_price,
            runners=tuple(caps.get("runners") or ()),
            models=tuple(caps.get("models") or ()),
            gpus=tuple((g.get("name", ""), int(g.get("memory_mb") or 0)) for g in caps.get("gpus") or ()),
            cuda_version=caps.get("cuda_version") or "",
            online=online,
        )


def online_since():
    from apps.governance.facade import parameter_get

    return timezone.now() - timedelta(seconds=3 * parameter_get("heartbeat_interval_s"))


def miner_is_online(miner) -> bool:
    from apps.gpu.models import MinerStatus

    return (
        miner.status == MinerStatus.ONLINE
        and miner.last_heartbeat_at is not None
        and miner.last_heartbeat_at >= online_since()
    )


def miners_online() -> list[MinerView]:
    from apps.gpu.models import Miner, MinerStatus

    miners = Miner.objects.filter(status=MinerStatus.ONLINE, last_heartbeat_at__gte=online_since())
    return [MinerView.from_model(m, online=True) for m in miners]


def miner_for_principal(principal_id: UUID) -> MinerView | None:
    from apps.gpu.models import Miner

    miner = Miner.objects.filter(principal_id=principal_id).first()
    return MinerView.from_model(miner, online=miner_is_online(miner)) if miner else None


def miner_counters_add(miner_id: UUID, *, completed: int = 0, failed: int = 0) -> None:
    from django.db.models import F

    from apps.gpu.models import Miner

    Miner.objects.filter(id=miner_id).update(
        jobs_completed=F("jobs_completed") + completed, jobs_failed=F("jobs_failed") + failed
    )


def miner_track_record(principal_id: UUID) -> tuple[int, int]:
    """(runs completed, runs failed) of the miner this principal runs, as the platform recorded them in the
    jobs' attempts: failures, lost leases, expiries and runs walked away from count, whether or not the miner
    ever reported them; (0, 0) when it runs none."""
    from apps.ai.facade import miner_track_records
    from apps.gpu.models import Miner

    miner_id = Miner.objects.filter(principal_id=principal_id).values_list("id", flat=True).first()
    record = miner_track_records([miner_id]).get(miner_id) if miner_id else None
    return (record["completed"], record["failed"]) if record else (0, 0)


def gpu_booking_open(
    *,
    key: str,
    miner_id: UUID,
    provider_principal_id: UUID,
    client_id: UUID,
    gpu_model: str,
    gpu_count: int,
    hours: Decimal,
    price_per_hour: Decimal,
    escrow_key: str,
    starts_at=None,
    min_memory_gb: int = 0,
) -> UUID:
    """Records a booking paid for by the hold `escrow_key` that the caller already placed for
    hours x price_per_hour x gpu_count (to 8 places, rounded down); returns its id. It holds gpu_count of the
    miner's online GPUs of gpu_model with at least min_memory_gb that no other booking holds over its time:
    409 gpus_unavailable when the miner has fewer, and nothing is recorded (the hold is the caller's to undo).
    The same key again returns the same booking (409 when it was used for a different one). The provider is
    paid from the hold when the booking ends (or pro rata when its client releases it)."""
    from apps.gpu.bookings import booking_open

    booking = booking_open(
        key=key,
        miner_id=miner_id,
        provider_principal_id=provider_principal_id,
        client_id=client_id,
        gpu_model=gpu_model,
        gpu_count=gpu_count,
        hours=hours,
        price_per_hour=price_per_hour,
        escrow_key=escrow_key,
        starts_at=starts_at,
        min_memory_gb=min_memory_gb,
    )
    return booking.id


@dataclass(frozen=True)
class GpuSupply:
    """A miner's registered GPUs of one model and memory: those that count, and why each other one does not."""

    gpu_ids: tuple[UUID, ...]  # those that count, in the order a booking takes them
    uuids: tuple[str, ...]  # their NVML UUIDs, in the same order
    not_counted: tuple[str, ...]  # e.g. "GPU-... is OFFLINE (its miner no longer reports it)"


def gpus_free(*, miner_id: UUID, gpu_model: str, min_memory_gb: int = 0, hours: Decimal | None = None) -> GpuSupply:
    """The miner's GPUs of gpu_model (matched as the market matches models) with at least min_memory_gb that are
    online (not OFFLINE, the miner online); with `hours`, only those no ACTIVE booking holds from now for that
    long, the ones a booking made now could take."""
    from apps.gpu.availability import gpus_of_model, supply_of
    from apps.gpu.bookings import booking_span
    from apps.gpu.models import Miner

    miner = Miner.objects.filter(id=miner_id).first()
    if miner is None:
        return GpuSupply(gpu_ids=(), uuids=(), not_counted=("the miner is not registered",))
    span = booking_span(hours) if hours is not None else {}
    supply = supply_of(miner, gpus_of_model(miner_id, gpu_model), min_memory_gb=min_memory_gb, **span)
    return GpuSupply(
        gpu_ids=tuple(g.id for g in supply.free),
        uuids=tuple(g.uuid for g in supply.free),
        not_counted=tuple(supply.not_counted),
    )


def miners_by_id(miner_ids) -> dict:
    """{miner_id: MinerView} for the miners that exist among `miner_ids`, each with whether it is online."""
    from apps.gpu.models import Miner

    return {m.id: MinerView.from_model(m, online=miner_is_online(m)) for m in Miner.objects.filter(id__in=miner_ids)}


EDGE_TELEMETRY_WINDOW = timedelta(hours=1)


def edge_hosts() -> list[dict]:
    """Every online miner's GPUs with the edge GPU profile each matches (None when none does) and its telemetry
    over the last hour: {"miner": MinerView, "inflight", "gpus": [{"gpu_id", "model", "memory_mb", "profile":
    {"model", "category", "memory_mb", "tdp_w", "fp16_tflops", "int8_tops"} | None, "samples",
    "mean_utilization_gpu", "peak_temperature_c"}]}."""
    from django.db.models import Avg, Count, Max, Q

    from apps.gpu.edge import profile_for
    from apps.gpu.models import Gpu, GpuStatus, Miner, MinerStatus

    since = timezone.now() - EDGE_TELEMETRY_WINDOW
    recent = Q(samples__created_at__gte=since)
    miners = Miner.objects.filter(status=MinerStatus.ONLINE, last_heartbeat_at__gte=online_since())
    gpus = (
        Gpu.objects.filter(miner__in=miners)
        .exclude(status=GpuStatus.OFFLINE)
        .annotate(
            n=Count("samples", filter=recent),
            mean_util=Avg("samples__utilization_gpu", filter=recent),
            peak_temp=Max("samples__temperature_c", filter=recent),
        )
    )
    by_miner: dict = {}
    for gpu in gpus:
        profile = profile_for(gpu.model)
        by_miner.setdefault(gpu.miner_id, []).append(
            {
                "gpu_id": gpu.id,
                "model": gpu.model,
                "memory_mb": gpu.memory_mb,
                "profile": profile
                and {
                    f: getattr(profile, f)
                    for f in ("model", "category", "memory_mb", "tdp_w", "fp16_tflops", "int8_tops")
                },
                "samples": gpu.n,
                "mean_utilization_gpu": gpu.mean_util,
                "peak_temperature_c": gpu.peak_temp,
            }
        )
    return [
        {"miner": MinerView.from_model(m, online=True), "inflight": m.inflight, "gpus": by_miner.get(m.id, [])}
        for m in miners
    ]


# --- what the monitoring service reads ---


def miner_counts() -> dict:
    """{"registered", "online", "offline"} miner counts."""
    from apps.gpu.selectors import miner_counts as counts

    return counts()


def gpus_by_model() -> list[dict]:
    """Per model: GPUs registered and online, with mean utilisation etc. from the latest heartbeats."""
    from apps.gpu.selectors import gpus_by_model as by_model

    return by_model()


def gpu_utilization_per_minute(minutes: int = 30) -> dict:
    """Mean utilisation per model and minute, from stored heartbeat samples."""
    from apps.gpu.selectors import gpu_utilization_per_minute as per_minute

    return per_minute(minutes)


def gpu_queue_names() -> list[str]:
    """The Celery queue of every registered GPU worker (`gpu.<miner_id>`)."""
    from aitbc_site.queues import gpu_queue
    from apps.gpu.selectors import celery_miner_ids

    return [gpu_queue(str(miner_id)) for miner_id in celery_miner_ids()]


def miners_plugins_recheck(miner_ids) -> int:
    """The plugin registry's verdicts changed for installs these miners reported: their runners follow."""
    from apps.gpu.models import Miner
    from apps.gpu.services import miner_plugins_recheck

    miners = list(Miner.objects.filter(id__in=list(miner_ids)))
    for miner in miners:
        miner_plugins_recheck(miner=miner)
    return len(miners)
