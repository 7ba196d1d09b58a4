"""What the platform measured of the miners' speed, as dispatch reads it (kept apart from the benchmark services
it would import). A benchmark run takes as long as the platform's own clock says: from the claim that started
the run to the result that ended it, both stamped on the job's attempt. A duration the miner reports in its
metrics is its own word and never enters."""

from datetime import timedelta
from uuid import UUID

from django.db.models import Exists, OuterRef
from django.utils import timezone

from apps.ai.models import BenchmarkRun, JobAttempt

SPEED_WINDOW = timedelta(days=7)  # benchmark runs older than this no longer steer dispatch


def _elapsed(started, ended) -> float:
    return round(max((ended - started).total_seconds(), 0.0), 6)


def jobs_timed(job_ids) -> dict[UUID, float]:
    """{job_id: seconds} for the completed jobs among job_ids: their completed run, claim to result."""
    runs = JobAttempt.objects.filter(job_id__in=list(job_ids), outcome="completed", ended_at__isnull=False)
    return {
        job_id: _elapsed(started, ended)
        for job_id, started, ended in runs.values_list("job_id", "started_at", "ended_at")
    }


def benchmark_seconds(job_type: str, miner_ids, *, units=None) -> dict[UUID, float]:
    """Per miner that has any: the mean platform-timed seconds of its completed benchmark runs of this job type
    that ended within SPEED_WINDOW. Given `units` (a job's expected GPU-seconds), each run is first scaled to
    that size by the benchmark job's own expected GPU-seconds: what the miner would take for that job, so a
    benchmark of a tiny workload does not make a miner look fast for a large job."""
    benchmarked = BenchmarkRun.objects.filter(
        job_id=OuterRef("job_id"), miner_id=OuterRef("miner_id"), job_type=job_type
    )
    runs = JobAttempt.objects.filter(
        miner_id__in=list(miner_ids),
        outcome="completed",
        job__type=job_type,
        ended_at__gte=timezone.now() - SPEED_WINDOW,
    ).filter(Exists(benchmarked))
    seconds: dict[UUID, list[float]] = {}
    for miner_id, started, ended, expected in runs.values_list(
        "miner_id", "started_at", "ended_at", "job__expected_units"
    ):
        measured = _elapsed(started, ended)
        if units is not None:
            if not expected or expected <= 0:
                continue  # no size to scale by
            measured = measured * float(units) / float(expected)
        seconds.setdefault(miner_id, []).append(measured)
    return {miner_id: sum(s) / len(s) for miner_id, s in seconds.items()}
