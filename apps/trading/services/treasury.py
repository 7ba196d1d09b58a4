"""The DAO treasury's movements: platform fees swept into it, and payments it makes for funding proposals."""

from decimal import Decimal
from uuid import UUID

from django.db import transaction

from aitbc_site.errors import Conflict
from aitbc_site.money import ZERO, money_str
from apps.trading.locks import accounts_lock
from apps.trading.models import AccountKind, Entry, Posting
from apps.trading.services.ledger import DB, account_for, entry_post, held_amount, system_account

FEE_SWEEP_KIND = "fee_sweep"
FUNDING_KIND = "dao_funding"


def fees_sweep() -> Decimal:
    """Moves everything the fees account holds into the treasury in one balanced entry; returns the amount.

    The key names the fee account's last posting, so a retry, or a sweep racing another, moves nothing twice.
    """
    fees, treasury = system_account(AccountKind.FEES), system_account(AccountKind.TREASURY)
    with transaction.atomic(using=DB):
        locked = accounts_lock([fees.id, treasury.id])
        amount = locked[fees.id].balance
        if amount <= 0:
            return ZERO
        last = Posting.objects.filter(account_id=fees.id).order_by("-id").values_list("id", flat=True).first()
        _, created = entry_post(
            key=f"fee-sweep:{last}",
            kind=FEE_SWEEP_KIND,
            memo="platform fees into the DAO treasury",
            postings=[(locked[fees.id], -amount), (locked[treasury.id], amount)],
        )
    return amount if created else ZERO


def treasury_pay(*, to_owner: UUID, amount: Decimal, key: str, memo: str = "", reference: str = "") -> UUID:
    """Pays `amount` from the DAO treasury once per key (the same key again returns the first entry's id).

    409 when the treasury's available balance cannot cover it; nothing moves then.
    """
    treasury, target = system_account(AccountKind.TREASURY), account_for(to_owner)
    with transaction.atomic(using=DB):
        if (existing := Entry.objects.filter(key=key).first()) is not None:
            return existing.id
        locked = accounts_lock([treasury.id, target.id])
        available = locked[treasury.id].balance - held_amount(treasury.id)
        if available < amount:
            raise Conflict(
                f"the treasury holds {money_str(available)} AIT and cannot pay {money_str(amount)} AIT",
                code="treasury_insufficient",
            )
        entry, _ = entry_post(
            key=key,
            kind=FUNDING_KIND,
            memo=memo,
            reference=reference,
            postings=[(locked[treasury.id], -amount), (locked[target.id], amount)],
        )
    return entry.id
