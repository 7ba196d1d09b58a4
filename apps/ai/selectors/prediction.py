"""Runtime and cost predicted from the job history (`/v1/optimization/predict`), the miners that run a job
type with their record (`/v1/optimization/agents`), and the optimization health check.

The model: over the most recent completed jobs of the type, log(GPU-seconds used) is fitted by least
squares against log(the runner's work estimate for the job's payload), the size measure each job stored at
submit. With at least three jobs of two different sizes that gives a power law; otherwise the prediction
is the median of the history. The range is the 10th to 90th percentile of the fit's residuals.
"""

from decimal import Decimal
from statistics import median
from typing import cast
from uuid import UUID

import numpy as np
from django.db.models import Avg

from aitbc_miner.runners import PayloadError
from aitbc_site.errors import Invalid, NotFound
from aitbc_site.health import broker_check, database_check
from aitbc_site.money import money_str, quantize
from apps.ai.models import Job, JobState, StudyStatus, TuneStudy
from apps.ai.selectors.records import miner_run_records
from apps.ai.services.submit import runner_of
from apps.gpu import facade as gpu

HISTORY = 500
MIN_SECONDS = 1e-6  # a job that took no measurable time still has a logarithm


def _history(job_type: str, miner_id: UUID | None) -> list[tuple[float, float, Decimal | None]]:
    jobs = Job.objects.filter(type=job_type, state=JobState.COMPLETED, units__isnull=False)
    if miner_id is not None:
        jobs = jobs.filter(assigned_miner_id=miner_id)
    rows = jobs.order_by("-finished_at").values_list("expected_units", "units", "unit_price")[:HISTORY]
    return [(float(e), max(float(cast(Decimal, u)), MIN_SECONDS), p) for e, u, p in rows]  # units set: filtered


def _fit(history, size: float) -> tuple[str, float, float, float]:
    """(method, predicted seconds, low, high) for a job of this size."""
    x = np.log([max(e, MIN_SECONDS) for e, _, _ in history])
    y = np.log([u for _, u, _ in history])
    if len(history) >= 3 and np.ptp(x) > 1e-9:
        slope, intercept = np.polyfit(x, y, 1)
        residuals = y - (slope * x + intercept)
        centre = slope * np.log(max(size, MIN_SECONDS)) + intercept
        low, high = np.percentile(residuals, [10, 90])
        return "power_law", float(np.exp(centre)), float(np.exp(centre + low)), float(np.exp(centre + high))
    seconds = sorted(float(np.exp(v)) for v in y)
    return "median", median(seconds), seconds[int(0.1 * (len(seconds) - 1))], seconds[int(0.9 * (len(seconds) - 1))]


def _unit_price(job_type: str, miner_id: UUID | None, history) -> tuple[Decimal, str]:
    online = [m for m in gpu.miners_online() if job_type in m.runners]
    if miner_id is not None:
        chosen = next((m for m in online if m.id == miner_id), None)
        if chosen is None:
            raise NotFound(f"no online miner {miner_id} runs {job_type} jobs")
        return chosen.unit_price, "the chosen miner's unit price"
    if online:
        return min(m.unit_price for m in online), "the cheapest online miner's unit price"
    paid = [p for _, _, p in history if p is not None]
    return Decimal(median(paid)) if paid else Decimal(0), "the median unit price paid in the history"


def runtime_predict(*, job_type: str, payload: dict, miner_id: UUID | None = None) -> dict:
    runner = runner_of(job_type)
    try:
        size = runner.estimate_gpu_seconds(runner.validate(dict(payload)))
    except PayloadError as exc:
        raise Invalid(str(exc)) from None
    history = _history(job_type, miner_id)
    if not history:
        where = f" on miner {miner_id}" if miner_id else ""
        raise NotFound(f"no completed {job_type} jobs{where} to learn from yet", code="no_history")
    method, seconds, low, high = _fit(history, size)
    unit_price, basis = _unit_price(job_type, miner_id, history)
    return {
        "type": job_type,
        "sample_size": len(history),
        "method": method,
        "predicted_gpu_seconds": round(seconds, 6),
        "predicted_duration_ms": round(seconds * 1000, 3),
        "range_gpu_seconds": [round(low, 6), round(high, 6)],
        "unit_price": money_str(unit_price),
        "unit_price_basis": basis,
        "predicted_price": money_str(quantize(unit_price * Decimal(str(seconds)))),
        "price_range": [money_str(quantize(unit_price * Decimal(str(v)))) for v in (low, high)],
    }


def optimization_agents(job_type: str | None) -> list[dict]:
    """Online miners (those with the type's runner, when a type is given) and their record: how their runs (of
    the type) ended as the platform recorded them, failures, lost leases and expiries included."""
    miners = [m for m in gpu.miners_online() if job_type is None or job_type in m.runners]
    jobs = Job.objects.filter(assigned_miner_id__in=[m.id for m in miners], state=JobState.COMPLETED)
    if job_type:
        jobs = jobs.filter(type=job_type)
    means = dict(jobs.values("assigned_miner_id").annotate(s=Avg("units")).values_list("assigned_miner_id", "s"))
    records = miner_run_records([m.id for m in miners], job_type=job_type or None)  # what the platform saw
    rows = []
    for m in miners:
        record = records.get(m.id, {})
        done, failed = record.get("completed", 0), record.get("failed", 0)
        mean = means.get(m.id)
        rows.append(
            {
                "miner_id": m.id,
                "region": m.region,
                "unit_price": money_str(m.unit_price),
                "runners": list(m.runners),
                "jobs_completed": done,
                "jobs_failed": failed,
                "success_rate": round(done / (done + failed), 4) if done + failed else None,
                "mean_gpu_seconds": round(float(Decimal(mean).scaleb(-8)), 6) if mean is not None else None,
            }
        )
    rows.sort(key=lambda r: (-(r["success_rate"] or 0), Decimal(r["unit_price"])))
    return rows


def optimization_health() -> dict:
    checks = {"database": database_check("ai"), "broker": broker_check()}
    completed = Job.objects.filter(state=JobState.COMPLETED, units__isnull=False).count()
    checks["history"] = f"ok ({completed} completed jobs to predict from)" if completed else "no completed jobs yet"
    running = TuneStudy.objects.filter(status=StudyStatus.RUNNING).count()
    checks["tunes"] = f"{running} running"
    failing = [k for k in ("database", "broker") if checks[k] != "ok"]
    status = "error" if failing else "ok" if completed else "degraded"
    return {"service": "ai", "component": "optimization", "status": status, "checks": checks}
