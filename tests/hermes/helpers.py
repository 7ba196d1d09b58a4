"""Job history for hermes tests: jobs really submitted, claimed and finished through the job pipeline."""

from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete, job_fail
from tests.ai import factories as ai_factories
from tests.trading import factories as trading_factories


def history(miner, *, completed: int = 0, failed: int = 0, job_type: str = "echo", gpu_seconds: float = 1) -> None:
    """`completed` jobs finished and `failed` jobs failed (not retried) on this miner."""
    client, _ = trading_factories.funded_client("100")
    for outcome in ["completed"] * completed + ["failed"] * failed:
        job = ai_factories.job(client, type=job_type, payload={"seconds": 0} if job_type == "sleep" else None)
        claimed = job_claim(miner=miner)
        assert claimed.id == job.id
        if outcome == "completed":
            job_complete(miner=miner, job_id=job.id, result={"ok": True}, metrics={"gpu_seconds": gpu_seconds})
        else:
            job_fail(miner=miner, job_id=job.id, code="boom", message="the runner crashed", retryable=False)
