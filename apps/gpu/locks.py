"""Row locks in the GPU registry, always taken in primary-key order (Saleor's lock_objects.py).

A booking locks its miner's row first, as registration and heartbeats do (so it never deadlocks with a heartbeat
that updates the miner's GPUs in the order they were reported), then the GPU rows it chooses among.
"""

from uuid import UUID

from apps.gpu.models import Gpu, Miner


def miner_lock(miner_id: UUID) -> Miner | None:
    """Locks the miner's row (inside the caller's gpu transaction); None when there is no such miner."""
    return Miner.objects.select_for_update().filter(id=miner_id).first()


def gpus_lock(gpu_ids) -> list[Gpu]:
    """Locks these GPU rows (inside the caller's gpu transaction) in primary-key order and returns them in it, as
    they are now: two bookings that want some of the same GPUs take turns, and each sees what the other booked."""
    return list(Gpu.objects.select_for_update().filter(id__in=sorted(set(gpu_ids))).order_by("id"))
