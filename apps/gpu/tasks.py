from celery import shared_task

from apps.accounts.facade import principals_live
from apps.gpu.services.bookings import booking_escrows_orphaned_release, bookings_settle_due
from apps.gpu.services.broker import broker_users_sync
from apps.gpu.services.miners import gpu_samples_prune


@shared_task(name="gpu.settle_bookings", acks_late=True, reject_on_worker_lost=True, soft_time_limit=50, time_limit=60)
def settle_bookings() -> int:
    """Pays every booking whose time is up, and frees the escrow of bookings that were never recorded;
    running it again moves no money."""
    booking_escrows_orphaned_release()
    return bookings_settle_due()


@shared_task(name="gpu.prune_samples", soft_time_limit=50, time_limit=60)
def prune_samples() -> int:
    """Deletes GPU telemetry older than its retention (services.SAMPLE_RETENTION)."""
    return gpu_samples_prune()


@shared_task(name="gpu.sync_broker_users", soft_time_limit=20, time_limit=30)
def sync_broker_users() -> dict:
    """Redis keeps exactly the broker users of online Celery miners with a live key (made again after a Redis
    restart, removed after a revocation that Redis missed)."""
    return broker_users_sync(principals_live)
