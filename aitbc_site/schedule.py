"""Every periodic task, in one place, each with an expiry so a backlog never piles up."""

from aitbc_site.queues import Queue

BEAT_SCHEDULE = {
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
