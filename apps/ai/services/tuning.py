"""Parameter sweeps (`/v1/optimization/tune`): one job per combination of the parameters' values, all
submitted at once; when every job has ended, the completed one with the best objective value wins."""

import itertools
import math
import re
from decimal import Decimal
from typing import cast
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from aitbc_miner.runners import PayloadError
from aitbc_site.errors import Invalid, NotFound
from aitbc_site.times import iso
from apps.accounts.facade import PrincipalView
from apps.ai.models import TERMINAL_STATES, Job, JobState, StudyStatus, TuneStudy, TuneTrial
from apps.ai.services.benchmarks import funds_check, jobs_submit_all
from apps.ai.services.submit import JobRequest, runner_of

DB = "ai"
MAX_TRIALS = 32
JOB_METRICS = ("duration_ms", "gpu_seconds", "price")  # from the job itself; any other name is read from the result
METRIC = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _combinations(parameters: dict) -> list[dict]:
    if not 1 <= len(parameters) <= 5:
        raise Invalid("parameters: from 1 to 5 parameters, each a list of values")
    for name, values in parameters.items():
        if not isinstance(values, list) or not 1 <= len(values) <= 16:
            raise Invalid(f"parameters.{name}: a list of 1 to 16 values")
        if any(isinstance(v, dict | list) for v in values) or len({repr(v) for v in values}) != len(values):
            raise Invalid(f"parameters.{name}: distinct numbers, strings or booleans")
    combos = [dict(zip(parameters, values, strict=True)) for values in itertools.product(*parameters.values())]
    if len(combos) > MAX_TRIALS:
        raise Invalid(f"parameters: {len(combos)} combinations; at most {MAX_TRIALS}")
    return combos


def tune_start(
    *,
    client: PrincipalView,
    job_type: str,
    base_payload: dict,
    parameters: dict,
    metric: str,
    goal: str,
    max_price_per_job: Decimal,
    constraints: dict,
) -> TuneStudy:
    """Validates every combination's payload before anything is submitted, checks the client can cover all
    the jobs, then submits them (all or none)."""
    if not METRIC.match(metric):
        raise Invalid("metric: duration_ms, gpu_seconds, price, or a numeric key of the job's result")
    runner = runner_of(job_type)
    payloads = []
    for combo in _combinations(parameters):
        try:
            payloads.append((combo, runner.validate({**base_payload, **combo})))
        except PayloadError as exc:
            raise Invalid(f"parameters {combo}: {exc}") from None
    funds_check(client, max_price_per_job * len(payloads))
    study = TuneStudy.objects.create(
        client_id=client.id,
        job_type=job_type,
        base_payload=base_payload,
        parameters=parameters,
        metric=metric,
        goal=goal,
        max_price_per_job=max_price_per_job,
    )
    requests = [
        JobRequest(type=job_type, payload=p, max_price=max_price_per_job, ttl_seconds=3600, constraints=constraints)
        for _, p in payloads
    ]
    try:
        jobs = jobs_submit_all(client, requests, f"tune:{study.id}")
    except Exception:
        study.delete()
        raise
    TuneTrial.objects.bulk_create(
        TuneTrial(study=study, number=n, params=combo, job_id=job.id, state=job.state)
        for n, ((combo, _), job) in enumerate(zip(payloads, jobs, strict=True))
    )
    return study


def trial_value(job: Job, metric: str) -> float | None:
    if metric == "duration_ms":
        value = (job.metrics or {}).get("duration_ms")
    elif metric == "gpu_seconds":
        value = job.units
    elif metric == "price":
        value = job.price
    else:
        value = (job.result or {}).get(metric)
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def tune_refresh(study: TuneStudy) -> TuneStudy:
    """Copies the trials' job states and objective values; when all have ended, names the best."""
    if study.status != StudyStatus.RUNNING:
        return study
    trials = list(study.trials.all())
    jobs = Job.objects.in_bulk([t.job_id for t in trials])
    with transaction.atomic(using=DB):
        for trial in trials:
            job = jobs.get(trial.job_id)
            if job is None or job.state == trial.state:
                continue
            trial.state = job.state
            if job.state == JobState.COMPLETED:
                trial.value = trial_value(job, study.metric)
                trial.error = "" if trial.value is not None else f"the job reported no number for {study.metric!r}"
            else:
                trial.error = str((job.error or {}).get("message", job.state))[:500]
            trial.save(update_fields=["state", "value", "error", "updated_at"])
        if all(t.state in TERMINAL_STATES for t in trials):
            scored = [t for t in trials if t.value is not None]
            sign = 1 if study.goal == "max" else -1  # ties: the earliest trial
            # scored: each value is set
            study.best_trial = max(scored, key=lambda t: (sign * cast(float, t.value), -t.number)) if scored else None
            study.status = StudyStatus.COMPLETED if scored else StudyStatus.FAILED
            study.finished_at = timezone.now()
            study.save(update_fields=["best_trial", "status", "finished_at", "updated_at"])
    return study


def tune_get_for(principal: PrincipalView, study_id: UUID) -> TuneStudy:
    study = TuneStudy.objects.filter(id=study_id).first()
    if study is None or (study.client_id != principal.id and not principal.is_admin):
        raise NotFound(f"no tune {study_id}")
    return tune_refresh(study)


def tune_view(study: TuneStudy) -> dict:
    trials = list(study.trials.all())
    best = next((t for t in trials if t.id == study.best_trial_id), None)
    return {
        "tune_id": study.id,
        "type": study.job_type,
        "status": study.status,
        "metric": study.metric,
        "goal": study.goal,
        "trials": [
            {
                "number": t.number,
                "params": t.params,
                "job_id": t.job_id,
                "state": t.state,
                "value": t.value,
                "error": t.error or None,
            }
            for t in trials
        ],
        "finished": sum(t.state in TERMINAL_STATES for t in trials),
        "best": {"number": best.number, "params": best.params, "job_id": best.job_id, "value": best.value}
        if best
        else None,
        "created_at": iso(study.created_at),
        "finished_at": iso(study.finished_at),
    }


def tunes_refresh_running() -> int:
    return sum(
        tune_refresh(s).status != StudyStatus.RUNNING for s in TuneStudy.objects.filter(status=StudyStatus.RUNNING)
    )
