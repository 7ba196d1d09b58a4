from celery import shared_task

from apps.governance.services.proposals import proposals_close_due
from apps.governance.services.reports import reports_generate_due
from apps.trading import facade as ledger


@shared_task(name="governance.close_votes", soft_time_limit=50, time_limit=60)
def close_votes() -> int:
    """Opens votes whose delay is over and decides those whose period is over (SUCCEEDED or DEFEATED)."""
    return proposals_close_due()


@shared_task(name="governance.sweep_fees", soft_time_limit=50, time_limit=60)
def sweep_fees() -> str:
    """Platform fees into the DAO treasury, in one balanced ledger entry."""
    return str(ledger.fees_sweep())


@shared_task(name="governance.generate_reports", soft_time_limit=240, time_limit=300)
def generate_reports() -> list[str]:
    """The transparency reports of the day, week and month containing yesterday."""
    return reports_generate_due()
