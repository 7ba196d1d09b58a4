"""Row locks for ledger accounts, always taken in primary-key order so two entries never deadlock."""

from apps.trading.models import Account


def accounts_lock(account_ids) -> dict:
    """Locks the accounts (inside the caller's transaction) and returns them by id."""
    ids = sorted(set(account_ids))
    return {a.id: a for a in Account.objects.select_for_update().filter(id__in=ids).order_by("id")}
