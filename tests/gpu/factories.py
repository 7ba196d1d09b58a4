"""Miners and their GPUs for tests, registered through the same services the API calls."""

import uuid
from decimal import Decimal

import pytest

from apps.gpu.facade import MinerView
from apps.gpu.services.miners import miner_register
from tests.accounts.factories import principal

H100 = {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-eccbd7a6-2b52-e314-e970-e428a6e52776", "memory_mb": 81559}


def miner(
    *,
    region: str = "eu",
    unit_price: str = "0.01",
    concurrency: int = 4,
    gpus=(H100,),
    cuda: str = "13.0",
    models=(),
    runners=("echo", "sleep", "matmul"),
    mode: str = "poll",
    who=None,
) -> MinerView:
    """A registered miner; each of its GPUs gets a UUID of its own, as every physical GPU has one and a UUID belongs
    to one miner (`gpu_uuids` reads them back)."""
    who = who or principal("miner")[0]
    capabilities = {
        "gpus": [dict(g, uuid=f"GPU-{uuid.uuid4()}", compute_capability="9.0") for g in gpus],
        "cuda_version": cuda,
        "driver_version": "580.159.04",
        "models": list(models),
        "runners": list(runners),
    }
    registered = miner_register(
        principal=who,
        region=region,
        concurrency=concurrency,
        capabilities=capabilities,
        unit_price=Decimal(unit_price),
        mode=mode,
    )
    return MinerView.from_model(registered, online=True)


def gpu_uuids(miner) -> list[str]:
    """The UUIDs of the GPUs a miner from `miner()` reported, in the order it reported them."""
    from apps.gpu.models import Miner

    return [g["uuid"] for g in Miner.objects.get(id=miner.id).capabilities["gpus"]]


@pytest.fixture
def edge_profiles(db):
    """The published edge GPU profiles the gpu migration seeds, again: a transactional test's flush empties them."""
    import importlib

    from apps.gpu.models import EdgeGpuProfile

    seed = importlib.import_module("apps.gpu.migrations.0003_edge_gpu_profiles_seed")
    for model, *values in seed.PROFILES:
        EdgeGpuProfile.objects.update_or_create(model=model, defaults=dict(zip(seed.FIELDS, values, strict=True)))
