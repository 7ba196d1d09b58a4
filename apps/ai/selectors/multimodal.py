"""Multimodal jobs: text and images in one job, run by miners with the `multimodal` runner; the miners able
to run them (ranked as dispatch ranks them); and health checks that exercise the real pipeline."""

import base64
import time
from datetime import timedelta
from decimal import Decimal
from typing import cast

import numpy as np
from django.db.models import Count
from django.utils import timezone

from aitbc_miner.images import gradient_image, png_encode
from aitbc_miner.runners import Device, Runner, builtin_runner
from aitbc_site.health import broker_check, database_check
from aitbc_site.money import money_str
from apps.accounts.facade import PrincipalView
from apps.ai.models import Benchmark, BenchmarkRun, Job, JobState, StudyStatus
from apps.ai.selectors.records import miner_run_records
from apps.ai.selectors.speeds import benchmark_seconds
from apps.ai.services.submit import JobRequest, job_submit
from apps.gpu import facade as gpu

TYPE = "multimodal"


def multimodal_submit(
    *, client: PrincipalView, inputs: list[dict], max_price: Decimal, constraints: dict, ttl_seconds: int, key: str
) -> Job:
    """A multimodal job; it waits for (and is dispatched to) a miner that has the multimodal runner."""
    request = JobRequest(
        type=TYPE, payload={"inputs": inputs}, max_price=max_price, ttl_seconds=ttl_seconds, constraints=constraints
    )
    return job_submit(client=client, request=request, idempotency_key=key)


def capable_miners(job_type: str) -> list[dict]:
    """Online miners with the runner for job_type, in the order dispatch prefers them: unit price x measured
    seconds (mean of recent benchmark runs, timed by the platform) where benchmarked, then the others by unit
    price; each with how its runs of the type ended as the platform recorded them."""
    miners = [m for m in gpu.miners_online() if job_type in m.runners]
    seconds = benchmark_seconds(job_type, [m.id for m in miners])
    records = miner_run_records([m.id for m in miners], job_type=job_type)
    rows = []
    for m in miners:
        measured = seconds.get(m.id)
        rows.append(
            {
                "miner_id": m.id,
                "region": m.region,
                "mode": m.mode,
                "concurrency": m.concurrency,
                "unit_price": money_str(m.unit_price),
                "gpus": [name for name, _ in m.gpus],
                "benchmark_seconds": round(measured, 6) if measured is not None else None,
                "cost_per_benchmark_run": money_str(m.unit_price * Decimal(str(measured))) if measured else None,
                "jobs_completed": records.get(m.id, {}).get("completed", 0),
                "jobs_failed": records.get(m.id, {}).get("failed", 0),
            }
        )
    rows.sort(key=lambda r: (r["benchmark_seconds"] is None, Decimal(r["cost_per_benchmark_run"] or r["unit_price"])))
    return rows


def runner_self_test() -> str:
    """Runs the multimodal runner here on a generated PNG and text; its statistics must match the pixels."""
    pixels = gradient_image(24, seed=3)
    image = base64.b64encode(png_encode(pixels)).decode()
    runner = cast(Runner, builtin_runner(TYPE))  # the multimodal runner ships with AITBC
    started = time.perf_counter()
    try:
        payload = runner.validate({"inputs": [{"type": "text", "text": "two words"}, {"type": "image", "data": image}]})
        result = runner.run(payload, Device("cpu", "self-test"))
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"
    expected = [round(float(v), 4) for v in pixels.reshape(-1, 3).astype(np.float64).mean(axis=0)]
    decoded = result["outputs"][1]["pixels"]["mean"]
    if result["total_words"] != 2 or decoded != expected:
        return f"error: the runner decoded {decoded}, the image has {expected}"
    return f"ok ({(time.perf_counter() - started) * 1000:.1f} ms)"


def multimodal_health(*, deep: bool) -> dict:
    """ok / degraded (no capable miner online: jobs wait) / error (the database, broker or runner fails)."""
    miners = capable_miners(TYPE)
    checks = {
        "database": database_check("ai"),
        "broker": broker_check(),
        "miners": f"ok ({len(miners)} online)" if miners else "none online with the multimodal runner",
    }
    if deep:
        since = timezone.now() - timedelta(hours=1)
        recent = dict(
            Job.objects.filter(type=TYPE, finished_at__gte=since).values_list("state").annotate(n=Count("id"))
        )
        checks["runner_self_test"] = runner_self_test()
        checks["jobs_last_hour"] = (
            f"{recent.get(JobState.COMPLETED, 0)} completed, {recent.get(JobState.FAILED, 0)} failed, "
            f"{recent.get(JobState.EXPIRED, 0)} expired"
        )
        newest = BenchmarkRun.objects.filter(job_type=TYPE, seconds__isnull=False).order_by("-updated_at").first()
        running = Benchmark.objects.filter(job_type=TYPE, status=StudyStatus.RUNNING).count()
        checks["benchmarks"] = (
            f"{running} running; newest result {newest.updated_at.isoformat()}"
            if newest
            else f"{running} running; none measured"
        )
    failing = [k for k in ("database", "broker", "runner_self_test") if k in checks and not checks[k].startswith("ok")]
    status = "error" if failing else "ok" if miners else "degraded"
    return {"service": "ai", "component": TYPE, "status": status, "checks": checks, "miners_online": len(miners)}
