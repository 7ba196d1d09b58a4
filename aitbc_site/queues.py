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


def gpu_queue_transport_options(miner_id: str) -> dict:
    """kombu's Redis options for a miner's worker: its unacked messages are kept in keys named after its own
    queue, the only keys its broker user may touch (apps/gpu/broker.py), never in the control plane's."""
    queue = gpu_queue(miner_id)
    return {
        "unacked_key": f"{queue}.unacked",
        "unacked_index_key": f"{queue}.unacked_index",
        "unacked_mutex_key": f"{queue}.unacked_mutex",
        "visibility_timeout": 3600,
        "socket_connect_timeout": 2,
    }


# Which queue each task goes to (Celery's task_routes), by task name.
TASK_ROUTES = {
    "ai.dispatch_job": {"queue": Queue.DISPATCH.value},
    "ai.settle_job": {"queue": Queue.SETTLEMENT.value},
    "ai.*": {"queue": Queue.CONTROL.value},
    "trading.seal_block": {"queue": Queue.SEALING.value},
    "marketplace.*": {"queue": Queue.MATCHING.value},
    "gpu.settle_bookings": {"queue": Queue.SETTLEMENT.value},
    "gpu.prune_samples": {"queue": Queue.CONTROL.value},
    "gpu.sync_broker_users": {"queue": Queue.CONTROL.value},
    "trading.*": {"queue": Queue.SETTLEMENT.value},
    "monitoring.*": {"queue": Queue.CONTROL.value},
    "hermes.*": {"queue": Queue.CONTROL.value},
    "governance.sweep_fees": {"queue": Queue.SETTLEMENT.value},
    "governance.*": {"queue": Queue.CONTROL.value},
}
