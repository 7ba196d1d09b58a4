"""Benchmarks: one workload run as jobs pinned to chosen miners. Each run's seconds, timed by the platform from
the claim to the result (apps.ai.selectors.speeds), are stored and steer dispatch: for that job type a Celery GPU worker
is chosen by unit price x its measured seconds."""

import base64
from contextlib import suppress
from decimal import Decimal
from typing import cast
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from aitbc_miner.images import gradient_image, png_encode
from aitbc_site.errors import Conflict, Invalid, NotFound, PaymentRequired
from aitbc_site.inputs import AMOUNT_LIMIT
from aitbc_site.times import iso
from apps.accounts.facade import PrincipalView
from apps.ai.models import TERMINAL_STATES, Benchmark, BenchmarkRun, Job, JobState, StudyStatus
from apps.ai.selectors.speeds import jobs_timed
from apps.ai.services.lifecycle import job_cancel
from apps.ai.services.submit import JobRequest, job_submit
from apps.gpu import facade as gpu
from apps.trading import facade as trading

DB = "ai"
BENCHMARK_TEXT = "A benchmark of multimodal processing: text statistics and a decoded PNG image, repeated."


def benchmark_payload(*, image_size: int, repeat: int, text: str | None = None) -> dict:
    """The standard multimodal workload: a generated RGB PNG of image_size^2 pixels and a text."""
    image = base64.b64encode(png_encode(gradient_image(image_size))).decode()
    inputs = [{"type": "text", "text": text or BENCHMARK_TEXT}, {"type": "image", "data": image}]
    return {"inputs": inputs, "repeat": repeat}


def funds_check(client: PrincipalView, total: Decimal) -> None:
    """422 when the jobs together may cost more than any amount the ledger takes (what one Amount may be), 402
    when the client's available balance cannot cover them; before any of them is submitted."""
    if total >= AMOUNT_LIMIT:
        raise Invalid(f"max_price_per_job: these jobs may cost up to {total} AIT together, not under {AMOUNT_LIMIT:f}")
    available = trading.account_balances(client.id)["available"]
    if available < total:
        raise PaymentRequired(f"these jobs may cost up to {total} AIT; {available} AIT is available")


def jobs_submit_all(client: PrincipalView, requests: list[JobRequest], key_prefix: str) -> list[Job]:
    """Submits every job or none: if one fails (cannot be paid for, or any other error), those already
    submitted are canceled and refunded, since the caller then drops the study they belong to."""
    jobs: list[Job] = []
    try:
        for number, request in enumerate(requests):
            jobs.append(job_submit(client=client, request=request, idempotency_key=f"{key_prefix}:{number}"))
    except Exception:
        for job in jobs:
            with suppress(Conflict):  # it ended meanwhile
                job_cancel(client=client, job_id=job.id)
        raise
    return jobs


def _miners_checked(miner_ids: list[UUID], job_type: str) -> list[UUID]:
    online = {m.id: m for m in gpu.miners_online()}
    chosen = list(dict.fromkeys(miner_ids))
    for miner_id in chosen:
        if miner_id not in online:
            raise Invalid(f"miner_ids: miner {miner_id} is not online")
        if job_type not in online[miner_id].runners:
            raise Invalid(f"miner_ids: miner {miner_id} does not run {job_type} jobs")
    return chosen


def benchmark_start(
    *, client: PrincipalView, job_type: str, miner_ids: list[UUID], payload: dict, max_price_per_job: Decimal
) -> Benchmark:
    """One job of the workload per chosen miner (online, with the runner), each pinned to its miner."""
    chosen = _miners_checked(miner_ids, job_type)
    funds_check(client, max_price_per_job * len(chosen))
    benchmark = Benchmark.objects.create(client_id=client.id, job_type=job_type, payload=payload)
    requests = [
        JobRequest(type=job_type, payload=payload, max_price=max_price_per_job, ttl_seconds=900, pinned_miner_id=str(m))
        for m in chosen
    ]
    try:
        jobs = jobs_submit_all(client, requests, f"benchmark:{benchmark.id}")
    except Exception:
        benchmark.delete()
        raise
    BenchmarkRun.objects.bulk_create(
        BenchmarkRun(benchmark=benchmark, miner_id=m, job_type=job_type, job_id=j.id, state=j.state)
        for m, j in zip(chosen, jobs, strict=True)
    )
    benchmark.payload = jobs[0].payload
    benchmark.save(update_fields=["payload", "updated_at"])
    return benchmark


def benchmark_refresh(benchmark: Benchmark) -> Benchmark:
    """Copies the runs' job states and measured seconds; when every job has ended, the benchmark ends."""
    if benchmark.status != StudyStatus.RUNNING:
        return benchmark
    runs = list(benchmark.runs.all())
    jobs = Job.objects.in_bulk([r.job_id for r in runs])
    timed = jobs_timed(j.id for j in jobs.values() if j.state == JobState.COMPLETED)
    with transaction.atomic(using=DB):
        for run in runs:
            job = jobs.get(run.job_id)
            if job is None or job.state == run.state:
                continue
            run.state = job.state
            if job.state == JobState.COMPLETED:
                run.seconds = timed.get(job.id)  # by the platform's clock, not the miner's duration_ms
            run.save(update_fields=["state", "seconds", "updated_at"])
        if all(r.state in TERMINAL_STATES for r in runs):
            done = any(r.state == JobState.COMPLETED for r in runs)
            benchmark.status = StudyStatus.COMPLETED if done else StudyStatus.FAILED
            benchmark.finished_at = timezone.now()
            benchmark.save(update_fields=["status", "finished_at", "updated_at"])
    return benchmark


def benchmark_get_for(principal: PrincipalView, benchmark_id: UUID) -> Benchmark:
    benchmark = Benchmark.objects.filter(id=benchmark_id).first()
    if benchmark is None or (benchmark.client_id != principal.id and not principal.is_admin):
        raise NotFound(f"no benchmark {benchmark_id}")
    return benchmark_refresh(benchmark)


def benchmark_view(benchmark: Benchmark) -> dict:
    runs = list(benchmark.runs.all())
    measured = sorted((r for r in runs if r.seconds is not None), key=lambda r: cast(float, r.seconds))  # measured
    return {
        "benchmark_id": benchmark.id,
        "type": benchmark.job_type,
        "status": benchmark.status,
        "created_at": iso(benchmark.created_at),
        "finished_at": iso(benchmark.finished_at),
        "runs": [{"miner_id": r.miner_id, "job_id": r.job_id, "state": r.state, "seconds": r.seconds} for r in runs],
        "ranking": [{"rank": i + 1, "miner_id": r.miner_id, "seconds": r.seconds} for i, r in enumerate(measured)],
    }


def benchmarks_refresh_running() -> int:
    running = Benchmark.objects.filter(status=StudyStatus.RUNNING)
    return sum(benchmark_refresh(b).status != StudyStatus.RUNNING for b in running)
