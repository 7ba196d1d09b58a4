from celery import shared_task

from apps.marketplace.services import bid_escrows_orphaned_release, books_match_all


@shared_task(name="marketplace.match_books", soft_time_limit=50, time_limit=60)
def match_books() -> int:
    """The periodic engine run: every book with live orders, and fills whose escrow or booking is unfinished;
    then the holds of bids that were never recorded."""
    matched = books_match_all()
    bid_escrows_orphaned_release()
    return matched
