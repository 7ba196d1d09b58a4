"""Every periodic task, in one place, each with an expiry so a backlog never piles up."""

from aitbc_site.queues import Queue


def every(seconds: float, task: str, queue: Queue, expires: float | None = None) -> tuple[str, dict]:
    """One beat entry: `task` on `queue` every `seconds`, dropped if unstarted after `expires` (default: the period)."""
    options = {"queue": queue.value, "expires": expires or seconds}
    return task, {"task": task, "schedule": float(seconds), "options": options}


BEAT_SCHEDULE = dict(
    [
        every(30, "gpu.settle_bookings", Queue.SETTLEMENT, expires=25),
        every(3600, "gpu.prune_samples", Queue.CONTROL, expires=3000),
        every(10, "gpu.sync_broker_users", Queue.CONTROL),
        every(10, "marketplace.match_books", Queue.MATCHING),
        every(2, "trading.seal_block", Queue.SEALING),
        every(5, "ai.sweep_jobs", Queue.CONTROL),
        every(3, "ai.refresh_studies", Queue.CONTROL),
        every(30, "monitoring.worker_probe", Queue.CONTROL, expires=25),
        every(15, "monitoring.sample_health", Queue.CONTROL),
        every(2, "hermes.advance_workflows", Queue.CONTROL),
        every(10, "hermes.coordinate_edge", Queue.CONTROL),
        every(5, "governance.close_votes", Queue.CONTROL),
        every(60, "governance.sweep_fees", Queue.SETTLEMENT, expires=50),
        every(3600, "governance.generate_reports", Queue.CONTROL, expires=3000),
    ]
)
