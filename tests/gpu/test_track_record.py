"""A miner's record is what the platform saw its runs end in, never what the miner says of itself."""

from uuid import UUID

import pytest

from apps.gpu.facade import miners_by_id
from tests.accounts import factories as accounts_factories
from tests.runs import runs
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")
CAPS = {
    "gpus": [{"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-1", "memory_mb": 81559, "compute_capability": "9.0"}],
    "cuda_version": "13.0",
    "runners": ["echo"],
}
CLAIM = {"jobs_completed": 10_000, "jobs_failed": 0, "reputation": 1.0, "reliability": 1.0, "success_rate": 1.0}


def register(api, key, body):
    return api("gpu", key).post("/v1/miners/register", body)


def test_a_miner_that_claims_a_perfect_record_is_shown_the_record_the_platform_saw(api):
    """Given a miner that registers claiming 10,000 jobs and no failure (refused as fields, dropped inside its
    capabilities), then completes a job, lets a lease run out and holds one past its TTL, reporting no failure.
    Then its own view shows 1 run completed and 2 failed, and none of the claim."""
    _, key = accounts_factories.principal("miner")
    body = {"region": "eu", "concurrency": 2, "capabilities": CAPS, "unit_price": "0.01"}
    assert register(api, key, {**body, **CLAIM}).status_code == 422
    registered = register(api, key, {**body, "capabilities": {**CAPS, **CLAIM}})
    assert registered.status_code == 200, registered.content
    miner_id = UUID(registered.json()["miner_id"])
    client, _ = trading_factories.funded_client("100")
    runs(miners_by_id([miner_id])[miner_id], client, "completed", "lease_lost", "expired")

    view = api("gpu", key).get("/v1/miners/me").json()
    assert (view["jobs_completed"], view["jobs_failed"]) == (1, 2)
    assert not set(CLAIM) & set(view["capabilities"])
