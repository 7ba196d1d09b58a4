"""What the gpu app shares with the apps above it: plain values, and the hooks it declares.

Hooks are calls the gpu app needs from the job pipeline above it (design/layers.md); ai provides them in its
`AppConfig.ready()`.
"""

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from aitbc_site.hooks import Hook

# (miner_id=, job_ids=) -> how many leases of the jobs this miner holds were renewed (job_ids None: all it holds)
leases_renew = Hook("gpu.leases_renew")
# (miner_id=) -> how many of the jobs this miner held went back to the queue (it deregistered)
miner_jobs_requeue = Hook("gpu.miner_jobs_requeue")
# (miner_ids) -> {miner_id: {"completed", "failed"}}: how the runs of the jobs each miner took ended
miner_track_records = Hook("gpu.miner_track_records")


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


@dataclass(frozen=True)
class GpuSupply:
    """A miner's registered GPUs of one model and memory: those that count, and why each other one does not."""

    gpu_ids: tuple[UUID, ...]  # those that count, in the order a booking takes them
    uuids: tuple[str, ...]  # their NVML UUIDs, in the same order
    not_counted: tuple[str, ...]  # e.g. "GPU-... is OFFLINE (its miner no longer reports it)"
