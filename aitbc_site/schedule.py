"""Every periodic task, in one place, each with an expiry so a backlog never piles up."""

from aitbc_site.queues import Queue

BEAT_SCHEDULE = {
    "gpu.settle_bookings": {
        "task": "gpu.settle_bookings",
        "schedule": 30.0,
        "options": {"queue": Queue.SETTLEMENT.value, "expires": 25},
    },
    "gpu.prune_samples": {
        "task": "gpu.prune_samples",
        "schedule": 3600.0,
        "options": {"queue": Queue.CONTROL.value, "expires": 3000},
    },
    "marketplace.match_books": {
        "task": "marketplace.match_books",
        "schedule": 10.0,
        "options": {"queue": Queue.MATCHING.value, "expires": 10},
    },
    "trading.seal_block": {
        "task": "trading.seal_block",
        "schedule": 2.0,
        "options": {"queue": Queue.SEALING.value, "expires": 2},
    },
    "ai.sweep_jobs": {
        "task": "ai.sweep_jobs",
        "schedule": 5.0,
        "options": {"queue": Queue.CONTROL.value, "expires": 5},
    },
    "monitoring.worker_probe": {
        "task": "monitoring.worker_probe",
        "schedule": 30.0,
        "options": {"queue": Queue.CONTROL.value, "expires": 25},
    },
}
