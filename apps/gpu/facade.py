"""What other apps may know about miners and GPUs: plain values (apps/gpu/contracts.py), never ORM objects."""

from decimal import Decimal
from uuid import UUID

from django.db.models import F

from aitbc_site.queues import gpu_queue
from apps.accounts.facade import PrincipalView
from apps.gpu.contracts import GpuSupply, MinerView, miner_track_records
from apps.gpu.models import Miner, MinerStatus
from apps.gpu.selectors import miners as miner_selectors
from apps.gpu.selectors.availability import gpus_of_model, supply_of
from apps.gpu.selectors.bookings import booking_span
from apps.gpu.selectors.edge import edge_hosts
from apps.gpu.selectors.miners import miner_is_online, online_since
from apps.gpu.services import miners as miner_services
from apps.gpu.services.bookings import booking_open

__all__ = ["GpuSupply", "MinerView", "edge_hosts"]


def miners_online() -> list[MinerView]:
    miners = Miner.objects.filter(status=MinerStatus.ONLINE, last_heartbeat_at__gte=online_since())
    return [MinerView.from_model(m, online=True) for m in miners]


def miner_for_principal(principal_id: UUID) -> MinerView | None:
    miner = Miner.objects.filter(principal_id=principal_id).first()
    return MinerView.from_model(miner, online=miner_is_online(miner)) if miner else None


def miner_id_of_principal(principal_id: UUID) -> UUID | None:
    return Miner.objects.filter(principal_id=principal_id).values_list("id", flat=True).first()


def miner_registered(principal: PrincipalView) -> MinerView:
    """The registered (not deregistered) miner of this miner key, which is calling, so online; 404 otherwise."""
    return MinerView.from_model(miner_services.miner_registered(principal), online=True)


def miner_counters_add(miner_id: UUID, *, completed: int = 0, failed: int = 0) -> None:
    Miner.objects.filter(id=miner_id).update(
        jobs_completed=F("jobs_completed") + completed, jobs_failed=F("jobs_failed") + failed
    )


def miner_track_record(principal_id: UUID) -> tuple[int, int]:
    """(runs completed, runs failed) of the miner this principal runs, as the platform recorded them in the
    jobs' attempts: failures, lost leases, expiries and runs walked away from count, whether or not the miner
    ever reported them; (0, 0) when it runs none."""
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


def gpus_free(*, miner_id: UUID, gpu_model: str, min_memory_gb: int = 0, hours: Decimal | None = None) -> GpuSupply:
    """The miner's GPUs of gpu_model (matched as the market matches models) with at least min_memory_gb that are
    online (not OFFLINE, the miner online); with `hours`, only those no ACTIVE booking holds from now for that
    long, the ones a booking made now could take."""
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
    return {m.id: MinerView.from_model(m, online=miner_is_online(m)) for m in Miner.objects.filter(id__in=miner_ids)}


# --- what the monitoring service reads ---


def miner_counts() -> dict:
    """{"registered", "online", "offline"} miner counts."""
    return miner_selectors.miner_counts()


def gpus_by_model() -> list[dict]:
    """Per model: GPUs registered and online, with mean utilisation etc. from the latest heartbeats."""
    return miner_selectors.gpus_by_model()


def gpu_utilization_per_minute(minutes: int = 30) -> dict:
    """Mean utilisation per model and minute, from stored heartbeat samples."""
    return miner_selectors.gpu_utilization_per_minute(minutes)


def gpu_queue_names() -> list[str]:
    """The Celery queue of every registered GPU worker (`gpu.<miner_id>`)."""
    return [gpu_queue(str(miner_id)) for miner_id in miner_selectors.celery_miner_ids()]


def miners_plugins_recheck(miner_ids) -> int:
    """The plugin registry's verdicts changed for installs these miners reported: their runners follow."""
    miners = list(Miner.objects.filter(id__in=list(miner_ids)))
    for miner in miners:
        miner_services.miner_plugins_recheck(miner=miner)
    return len(miners)
