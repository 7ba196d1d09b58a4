"""Celery queue names, named once. Tasks name their queue from here; the worker consumes these."""

from enum import StrEnum


class Queue(StrEnum):
    CONTROL = "control"  # small housekeeping: probes, sweeps, reconciliation
    DISPATCH = "dispatch"  # waking miners for queued jobs
    SETTLEMENT = "settlement"  # money: captures, payouts, refunds
    MATCHING = "matching"  # the order book
    SEALING = "sealing"  # the block log


CONTROL_PLANE_QUEUES = tuple(q.value for q in Queue)


def gpu_queue(miner_id: str) -> str:
    """The queue a miner's GPU worker consumes."""
    return f"gpu.{miner_id}"


# Which queue each task goes to (Celery's task_routes), by task name.
TASK_ROUTES = {
    "ai.dispatch_job": {"queue": Queue.DISPATCH.value},
    "ai.settle_job": {"queue": Queue.SETTLEMENT.value},
    "ai.*": {"queue": Queue.CONTROL.value},
    "trading.seal_block": {"queue": Queue.SEALING.value},
    "marketplace.*": {"queue": Queue.MATCHING.value},
    "gpu.settle_bookings": {"queue": Queue.SETTLEMENT.value},
    "gpu.prune_samples": {"queue": Queue.CONTROL.value},
    "trading.*": {"queue": Queue.SETTLEMENT.value},
    "monitoring.*": {"queue": Queue.CONTROL.value},
    "hermes.*": {"queue": Queue.CONTROL.value},
    "governance.sweep_fees": {"queue": Queue.SETTLEMENT.value},
    "governance.*": {"queue": Queue.CONTROL.value},
}
