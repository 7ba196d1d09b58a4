from celery import shared_task

from apps.marketplace.engine import books_match_all


@shared_task(name="marketplace.match_books", soft_time_limit=50, time_limit=60)
def match_books() -> int:
    """The periodic engine run: every book with live orders, and fills whose escrow or booking is unfinished."""
    return books_match_all()
