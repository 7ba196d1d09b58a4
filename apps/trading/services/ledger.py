"""Writes to the ledger. Every movement is one balanced entry under a unique key, in one transaction."""

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum

from aitbc_site.errors import Conflict, Invalid, PaymentRequired
from aitbc_site.money import ZERO, money, money_str
from apps.trading.locks import accounts_lock
from apps.trading.models import Account, AccountKind, Entry, Hold, HoldStatus, Posting

DB = "trading"
GENESIS_KEY = "genesis"
SYSTEM_KINDS = (AccountKind.ISSUANCE, AccountKind.TREASURY, AccountKind.FEES)


def genesis_supply() -> Decimal:
    return money(settings.AITBC_GENESIS_SUPPLY, field="AITBC_GENESIS_SUPPLY")


def ledger_genesis() -> None:
    """The system accounts and the genesis entry (the supply, in the treasury). Idempotent."""
    if Entry.objects.filter(key=GENESIS_KEY).exists():
        return
    try:
        with transaction.atomic(using=DB):
            accounts = {kind: Account.objects.get_or_create(kind=kind, owner_id=None)[0] for kind in SYSTEM_KINDS}
            supply = genesis_supply()
            entry_post(
                key=GENESIS_KEY,
                kind="genesis",
                memo="the genesis supply, held by the treasury",
                postings=[(accounts[AccountKind.ISSUANCE], -supply), (accounts[AccountKind.TREASURY], supply)],
            )
    except IntegrityError:
        pass  # another process made it first


def system_account(kind: str) -> Account:
    ledger_genesis()
    return Account.objects.get(kind=kind)


def account_for(owner_id: UUID) -> Account:
    account = Account.objects.filter(owner_id=owner_id).first()
    if account is not None:
        return account
    try:
        with transaction.atomic(using=DB):
            return Account.objects.create(kind=AccountKind.PRINCIPAL, owner_id=owner_id)
    except IntegrityError:
        return Account.objects.get(owner_id=owner_id)


def held_amount(account_id) -> Decimal:
    return Hold.objects.filter(account_id=account_id, status=HoldStatus.HELD).aggregate(s=Sum("amount"))["s"] or ZERO


def entry_post(*, key: str, kind: str, postings, memo: str = "", reference: str = "") -> tuple[Entry, bool]:
    """Posts a balanced entry once: the same key again returns the first entry (created=False).

    Call inside transaction.atomic(using="trading") with the accounts locked.
    """
    existing = Entry.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    postings = [(account, amount) for account, amount in postings if amount != 0]
    if sum((amount for _, amount in postings), ZERO) != 0:
        raise ValueError(f"entry {key} does not balance")
    entry = Entry.objects.create(key=key, kind=kind, memo=memo[:500], reference=reference)
    for account, amount in postings:
        Posting.objects.create(entry=entry, account=account, amount=amount)
        account.balance += amount
        account.save(update_fields=["balance", "updated_at"])
    return entry, True


def _ensure_available(account: Account, amount: Decimal, what: str) -> None:
    available = account.balance - held_amount(account.id)
    if available < amount:
        raise PaymentRequired(f"{what} needs {money_str(amount)} AIT but only {money_str(available)} AIT is available")


def hold_place(*, owner_id: UUID, key: str, amount: Decimal, what: str = "this") -> Hold:
    """Reserves `amount` of the owner's available money under `key` (the same key again is the same hold)."""
    account = account_for(owner_id)
    with transaction.atomic(using=DB):
        account = accounts_lock([account.id])[account.id]
        existing = Hold.objects.filter(key=key).first()
        if existing is not None:
            return existing
        _ensure_available(account, amount, what)
        return Hold.objects.create(key=key, account=account, amount=amount)


def hold_transfer(*, from_key: str, to_key: str, amount: Decimal) -> Hold:
    """Moves `amount` of one hold into a new hold of the same account (a bid's escrow into one fill's).

    The same to_key again returns the hold made the first time.
    """
    with transaction.atomic(using=DB):
        source = Hold.objects.select_for_update().filter(key=from_key).first()
        if (existing := Hold.objects.filter(key=to_key).first()) is not None:
            return existing
        if source is None or source.status != HoldStatus.HELD:
            raise Conflict(f"escrow {from_key} is not held", code="escrow_missing")
        if amount > source.amount:
            raise Conflict(f"escrow {from_key} holds {money_str(source.amount)}, not {money_str(amount)}")
        source.amount -= amount
        source.save(update_fields=["amount", "updated_at"])
        return Hold.objects.create(key=to_key, account_id=source.account_id, amount=amount)


def hold_return(*, from_key: str, to_key: str) -> str | None:
    """Undoes hold_transfer: what `from_key` holds goes back into `to_key`, the hold of the same account it was
    moved out of (a fill whose booking was refused gives its part back to its bid); when `to_key` is no longer
    held it is simply freed. Returns `from_key`'s final status (None: no such hold); again, nothing more moves."""
    with transaction.atomic(using=DB):
        locked = Hold.objects.select_for_update().filter(key__in=[from_key, to_key]).order_by("id")
        holds = {hold.key: hold for hold in locked}
        source, target = holds.get(from_key), holds.get(to_key)
        if source is None or source.status != HoldStatus.HELD:
            return None if source is None else source.status
        if target is not None and target.status == HoldStatus.HELD and target.account_id == source.account_id:
            target.amount += source.amount
            target.save(update_fields=["amount", "updated_at"])
        source.status = HoldStatus.RELEASED
        source.save(update_fields=["status", "updated_at"])
        return source.status


def hold_release(*, key: str) -> str | None:
    """Frees a hold that was not captured; returns its final status (None when there is no such hold)."""
    with transaction.atomic(using=DB):
        hold = Hold.objects.select_for_update().filter(key=key).first()
        if hold is None:
            return None
        if hold.status == HoldStatus.HELD:
            hold.status = HoldStatus.RELEASED
            hold.save(update_fields=["status", "updated_at"])
        return hold.status


def hold_capture(*, key: str, credits, entry_key: str, kind: str, memo: str = "", reference: str = "") -> Entry:
    """Pays from a hold: the holder is debited the sum of `credits` [(account, amount)], at most the hold.

    Call inside transaction.atomic(using="trading"). Capturing again returns the first entry.
    """
    hold = Hold.objects.select_for_update().filter(key=key).first()
    if hold is None:
        raise Conflict(f"there is no escrow {key}", code="escrow_missing")
    if hold.status == HoldStatus.CAPTURED:
        return Entry.objects.get(key=entry_key)
    if hold.status == HoldStatus.RELEASED:
        raise Conflict(f"escrow {key} was already released", code="escrow_released")
    total = sum((amount for _, amount in credits), ZERO)
    if total > hold.amount:
        raise Conflict(f"cannot capture {money_str(total)} from escrow of {money_str(hold.amount)}")
    locked = accounts_lock([hold.account_id, *(account.id for account, _ in credits)])
    postings = [(locked[hold.account_id], -total), *((locked[account.id], amount) for account, amount in credits)]
    entry, _ = entry_post(key=entry_key, kind=kind, memo=memo, reference=reference, postings=postings)
    hold.status = HoldStatus.CAPTURED
    hold.save(update_fields=["status", "updated_at"])
    return entry


def _replay(existing: Entry, target: Account, amount: Decimal) -> Entry:
    """The entry a repeated request made before, if it was the same request; 409 otherwise."""
    if not existing.postings.filter(account=target, amount=amount).exists():
        raise Conflict("this Idempotency-Key was used with a different request", code="idempotency_conflict")
    return existing


def transfer(*, from_owner: UUID, to_owner: UUID, amount: Decimal, key: str, memo: str = "") -> Entry:
    if from_owner == to_owner:
        raise Invalid("to_principal_id: cannot transfer to yourself")
    source, target = account_for(from_owner), account_for(to_owner)
    with transaction.atomic(using=DB):
        locked = accounts_lock([source.id, target.id])
        if (existing := Entry.objects.filter(key=key).first()) is not None:
            return _replay(existing, target, amount)
        _ensure_available(locked[source.id], amount, "this transfer")
        postings = [(locked[source.id], -amount), (locked[target.id], amount)]
        return entry_post(key=key, kind="transfer", memo=memo, postings=postings)[0]


def treasury_credit(*, to_owner: UUID, amount: Decimal, key: str, memo: str = "") -> Entry:
    treasury, target = system_account(AccountKind.TREASURY), account_for(to_owner)
    with transaction.atomic(using=DB):
        locked = accounts_lock([treasury.id, target.id])
        if (existing := Entry.objects.filter(key=key).first()) is not None:
            return _replay(existing, target, amount)
        _ensure_available(locked[treasury.id], amount, "this credit from the treasury")
        postings = [(locked[treasury.id], -amount), (locked[target.id], amount)]
        return entry_post(key=key, kind="credit", memo=memo, postings=postings)[0]


@dataclass(frozen=True)
class LedgerCheck:
    ok: bool
    supply: Decimal
    total: Decimal
    unbalanced_entries: list
    drifted_accounts: list


def ledger_check() -> LedgerCheck:
    """Every entry balances, every balance is the sum of its postings, and all balances sum to the supply."""
    ledger_genesis()
    supply = genesis_supply()
    total = Account.objects.exclude(kind=AccountKind.ISSUANCE).aggregate(s=Sum("balance"))["s"] or ZERO
    unbalanced = list(
        Posting.objects.values("entry__key").annotate(s=Sum("amount")).exclude(s=0).values_list("entry__key", flat=True)
    )
    sums = dict(Posting.objects.values("account_id").annotate(s=Sum("amount")).values_list("account_id", "s"))
    drifted = [str(a.id) for a in Account.objects.all() if a.balance != sums.get(a.id, ZERO)]
    ok = total == supply and not unbalanced and not drifted
    return LedgerCheck(ok=ok, supply=supply, total=total, unbalanced_entries=unbalanced, drifted_accounts=drifted)
