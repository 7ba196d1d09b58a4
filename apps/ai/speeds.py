"""What benchmarks measured, as dispatch reads it (kept apart from the benchmark services it would import)."""

from datetime import timedelta
from uuid import UUID

from django.db.models import Avg
from django.utils import timezone

from apps.ai.models import BenchmarkRun

SPEED_WINDOW = timedelta(days=7)  # benchmark runs older than this no longer steer dispatch


def benchmark_seconds(job_type: str, miner_ids) -> dict[UUID, float]:
    """Mean measured seconds of recent completed benchmark runs of this job type, per miner that has any."""
    runs = BenchmarkRun.objects.filter(
        job_type=job_type, miner_id__in=miner_ids, seconds__isnull=False, updated_at__gte=timezone.now() - SPEED_WINDOW
    )
    return {row["miner_id"]: row["s"] for row in runs.values("miner_id").annotate(s=Avg("seconds"))}
