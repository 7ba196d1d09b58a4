"""Escrow as other domains use it: capturing a hold to pay someone and the platform fee, and releasing the holds
whose owner never recorded what they pay for."""

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from django.db import transaction

from aitbc_site.errors import Conflict
from aitbc_site.money import ZERO
from apps.trading.contracts import Capture
from apps.trading.fees import fee_of
from apps.trading.models import AccountKind, Hold
from apps.trading.selectors.ledger import escrows_held
from apps.trading.services.ledger import DB, account_for, hold_capture, hold_release, system_account

log = logging.getLogger(__name__)


def escrow_capture(
    *, key: str, payee_id: UUID, gross: Decimal, entry_key: str, kind: str, memo: str = "", reference: str = ""
) -> Capture:
    """Pays `gross` of the hold `key`: the payee gross - fee, the platform the fee (fee_of), in one entry under
    `entry_key`; the rest of the hold is freed to its owner. Once: a replay finds the entry and returns what the
    first capture moved. A hold already released pays nothing (all of it refunded); 409 escrow_missing when there
    is no such hold."""
    payee, fees = account_for(payee_id), system_account(AccountKind.FEES)
    fee = fee_of(gross)
    moved: dict = {}
    with transaction.atomic(using=DB):
        try:
            entry = hold_capture(
                key=key,
                credits=[(payee, gross - fee), (fees, fee)],
                entry_key=entry_key,
                kind=kind,
                memo=memo,
                reference=reference,
            )
            moved = dict(entry.postings.values_list("account_id", "amount"))
        except Conflict as error:
            if error.code != "escrow_released":  # released before: nothing was paid, all refunded
                raise
        held = Hold.objects.filter(key=key).values_list("amount", flat=True).get()
    paid, fee = moved.get(payee.id, ZERO), moved.get(fees.id, ZERO)
    return Capture(paid=paid, fee=fee, refunded=held - paid - fee)


def escrows_orphaned_release(prefix: str, recorded: Callable[[list[str]], Iterable], older_than: datetime) -> int:
    """Releases the holds under `prefix` older than `older_than` whose owner never recorded what they pay for
    (its process died between placing the hold and writing its row); returns how many. `recorded(ids)` is the
    set of those ids its domain has rows for; a younger hold may still be in flight."""
    held = escrows_held(prefix, older_than)
    kept = {str(i) for i in recorded(held)} if held else set()
    orphans = [ident for ident in held if ident not in kept]
    for ident in orphans:
        log.warning("releasing escrow %s%s, which nothing records", prefix, ident)
        hold_release(key=f"{prefix}{ident}")
    return len(orphans)
