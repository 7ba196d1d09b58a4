"""Which of a miner's registered GPUs an offer may count on and a booking may take.

A GPU counts for `gpu_model` with at least `min_memory_gb` when it is the miner's, its reported name holds the
model as the market matches models (case and spacing aside, "H100" in "NVIDIA H100 80GB HBM3"), its memory is at
least that many gigabytes of 10^9 bytes (as cards are labelled: NVML's 81559 MiB of an H100 80GB is 85.5 GB, the
24564 MiB of an RTX 4090 24GB is 25.8), it is not OFFLINE and its miner is online. A booking may take it when,
besides, no ACTIVE booking holds it at any time of the booking's own.

A GPU belongs to one miner (its NVML UUID is unique in the registry), so whatever holds it is one of that miner's
bookings: each records the GPUs it holds in `gpu_ids`, read here over the miner's ACTIVE bookings of that time.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from aitbc_site.times import iso
from apps.gpu.models import BookingStatus, Gpu, GpuBooking, GpuStatus, Miner
from apps.gpu.selectors.miners import miner_is_online

BYTES_PER_MIB = 2**20
BYTES_PER_GB = 10**9


def model_matches(name: str, wanted: str) -> bool:
    """The model asked for, case and spacing aside, is in the GPU's reported name (nothing matches an empty one)."""
    wanted = " ".join(wanted.lower().split())
    return bool(wanted) and wanted in " ".join(name.lower().split())


def memory_gb(memory_mb: int) -> Decimal:
    return Decimal(memory_mb * BYTES_PER_MIB) / BYTES_PER_GB


def gpus_of_model(miner_id, gpu_model: str) -> list[Gpu]:
    """The miner's registered GPUs of that model, whatever their state, in primary-key order."""
    return [g for g in Gpu.objects.filter(miner_id=miner_id).order_by("id") if model_matches(g.model, gpu_model)]


def booked_gpu_ids(miner_id, starts_at: datetime, ends_at: datetime) -> set[str]:
    """The ids of the miner's GPUs that one of its ACTIVE bookings holds at some time in [starts_at, ends_at)."""
    overlapping = GpuBooking.objects.filter(
        miner_id=miner_id, status=BookingStatus.ACTIVE, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    # gpu_ids is a JSON list: read in Python, since SQLite has no JSON containment lookup
    return {gpu_id for ids in overlapping.values_list("gpu_ids", flat=True) for gpu_id in ids}


@dataclass
class Supply:
    free: list[Gpu] = field(default_factory=list)  # the GPUs that count (a booking takes them in this order)
    not_counted: list[str] = field(default_factory=list)  # why each other GPU of the model does not


def supply_of(
    miner: Miner,
    gpus: list[Gpu],
    *,
    min_memory_gb: int = 0,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Supply:
    """Of `gpus` (the miner's, of the model asked for), those that count, and why the others do not; with a time,
    only those no ACTIVE booking holds over [starts_at, ends_at) count."""
    if not miner_is_online(miner):
        seen = iso(miner.last_heartbeat_at) or "never"
        return Supply(not_counted=[f"the miner is offline ({miner.status}, last heartbeat {seen})"])
    booked = booked_gpu_ids(miner.id, starts_at, ends_at) if starts_at and ends_at else set()
    supply = Supply()
    for gpu in gpus:
        if gpu.status == GpuStatus.OFFLINE:
            supply.not_counted.append(f"{gpu.uuid} is OFFLINE (its miner no longer reports it)")
        elif gpu.memory_mb * BYTES_PER_MIB < min_memory_gb * BYTES_PER_GB:
            supply.not_counted.append(f"{gpu.uuid} has {memory_gb(gpu.memory_mb):.1f} GB")
        elif str(gpu.id) in booked:
            supply.not_counted.append(f"{gpu.uuid} is booked over that time")
        else:
            supply.free.append(gpu)
    return supply
