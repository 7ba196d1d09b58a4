"""Making principals, money, miners and jobs for tests, through the same services the API calls."""

import uuid
from decimal import Decimal

from apps.accounts.selectors import principal_for_key
from apps.accounts.services import principal_create
from apps.ai.services.submit import JobRequest, job_submit
from apps.gpu.facade import MinerView
from apps.gpu.services import miner_register
from apps.trading.services.ledger import treasury_credit

H100 = {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-eccbd7a6-2b52-e314-e970-e428a6e52776", "memory_mb": 81559}


def principal(role: str = "client", name: str | None = None):
    issued = principal_create(name=name or f"{role}-{uuid.uuid4().hex[:6]}", role=role)
    return principal_for_key(issued.key), issued.key


def treasury_credit_to(principal_id, amount: str) -> None:
    treasury_credit(to_owner=principal_id, amount=Decimal(amount), key=f"test-credit:{principal_id}:{uuid.uuid4()}")


def funded_client(amount: str = "100"):
    client, key = principal("client")
    treasury_credit(to_owner=client.id, amount=Decimal(amount), key=f"test-credit:{client.id}")
    return client, key


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


def job(client, *, type="echo", payload=None, constraints=None, max_price="5", ttl=900, priority=0, key=""):
    request = JobRequest(
        type=type,
        payload=payload if payload is not None else {"hello": "world"},
        constraints=constraints or {},
        max_price=Decimal(max_price),
        ttl_seconds=ttl,
        priority=priority,
    )
    return job_submit(client=client, request=request, idempotency_key=key)


def database_lost_at(real, number: int):
    """`real`, except that its number-th call raises what Django raises when a database goes away mid-request."""
    from django.db import OperationalError

    calls = {"n": 0}

    def call(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == number:
            raise OperationalError("the database went away")
        return real(*args, **kwargs)

    return call


def held_for(job_id, seconds: float = 3600) -> None:
    """The platform saw the job's current run start `seconds` ago (its claim moved back in time), so a
    result reported now is billed up to that many GPU-seconds: the lease's wall-clock time x its one GPU."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.ai.models import Job, JobAttempt

    started = timezone.now() - timedelta(seconds=seconds)
    Job.objects.filter(id=job_id).update(started_at=started)
    latest = JobAttempt.objects.filter(job_id=job_id).order_by("-number").values_list("id", flat=True).first()
    JobAttempt.objects.filter(id=latest).update(started_at=started)
