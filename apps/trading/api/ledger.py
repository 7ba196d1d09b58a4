"""/v1/accounts, /v1/transfers, /v1/ledger/...: balances and postings, transfers, treasury credits, the check."""

import uuid
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from aitbc_site.api import Error
from aitbc_site.errors import Invalid
from aitbc_site.inputs import Amount
from aitbc_site.money import money_str
from aitbc_site.times import iso
from apps.accounts.auth import admins, any_principal
from apps.accounts.facade import principal_get
from apps.accounts.idempotency import idempotency_key
from apps.trading.selectors.ledger import account_balances, entry_list_for
from apps.trading.services.ledger import ledger_check, transfer, treasury_credit

router = Router(tags=["ledger"])


class AccountOut(Schema):
    principal_id: UUID
    balance: str
    held: str
    available: str
    currency: str = "AIT"


class EntryOut(Schema):
    entry_id: UUID
    key: str
    kind: str
    amount: str
    memo: str
    reference: str
    created_at: str


class EntryList(Schema):
    items: list[EntryOut]
    count: int


class TransferIn(Schema):
    model_config = ConfigDict(extra="forbid")
    to_principal_id: UUID
    amount: Amount
    memo: str = Field(default="", max_length=500)


class CreditIn(Schema):
    model_config = ConfigDict(extra="forbid")
    principal_id: UUID
    amount: Amount
    memo: str = Field(default="", max_length=500)


class MovementOut(Schema):
    entry_id: UUID
    kind: str
    from_principal_id: UUID | None
    to_principal_id: UUID
    amount: str
    created_at: str


def _balances_out(owner_id: UUID) -> dict:
    balances = account_balances(owner_id)
    return {**balances, **{k: money_str(balances[k]) for k in ("balance", "held", "available")}}


def _movement_key(request, scope: str) -> str:
    """Movements with the same Idempotency-Key from the same principal happen once (the key is checked and
    short enough that the entry's key fits its column)."""
    key = idempotency_key(request)
    return f"{scope}:{request.auth.id}:{key}" if key else ""


def _recipient(principal_id: UUID, field: str) -> None:
    if principal_get(principal_id) is None:
        raise Invalid(f"{field}: no active principal {principal_id}")


def _movement_out(entry, kind, source, target, amount) -> dict:
    return {
        "entry_id": entry.id,
        "kind": kind,
        "from_principal_id": source,
        "to_principal_id": target,
        "amount": money_str(amount),
        "created_at": iso(entry.created_at),
    }


@router.get("/accounts/me", auth=any_principal, response=AccountOut)
def account_me(request):
    """balance, held (locked for open jobs, bids, bookings) and available = balance - held."""
    return _balances_out(request.auth.id)


@router.get("/accounts/me/entries", auth=any_principal, response=EntryList)
def account_entries(request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):
    count, postings = entry_list_for(request.auth.id, limit=limit, offset=offset)
    items = [
        {
            "entry_id": p.entry.id,
            "key": p.entry.key,
            "kind": p.entry.kind,
            "amount": money_str(p.amount),
            "memo": p.entry.memo,
            "reference": p.entry.reference,
            "created_at": iso(p.entry.created_at),
        }
        for p in postings
    ]
    return {"items": items, "count": count}


@router.post("/transfers", auth=any_principal, response={201: MovementOut, 402: Error, 409: Error, 422: Error})
def transfer_create(request, body: TransferIn):
    """A balanced transfer from the caller to another principal (402 when funds are short)."""
    _recipient(body.to_principal_id, "to_principal_id")
    key = _movement_key(request, "transfer") or f"transfer:{request.auth.id}:{uuid.uuid4()}"
    entry = transfer(
        from_owner=request.auth.id, to_owner=body.to_principal_id, amount=body.amount, key=key, memo=body.memo
    )
    return Status(201, _movement_out(entry, "transfer", request.auth.id, body.to_principal_id, body.amount))


@router.post("/ledger/credits", auth=admins, response={201: MovementOut, 402: Error, 422: Error})
def credit_create(request, body: CreditIn):
    """An admin credits a principal from the treasury."""
    _recipient(body.principal_id, "principal_id")
    key = _movement_key(request, "credit") or f"credit:{request.auth.id}:{uuid.uuid4()}"
    entry = treasury_credit(to_owner=body.principal_id, amount=body.amount, key=key, memo=body.memo)
    return Status(201, _movement_out(entry, "credit", None, body.principal_id, body.amount))


@router.get("/ledger/check", auth=admins)
def ledger_check_view(request):
    """Every entry balances, every balance matches its postings, all balances sum to the genesis supply."""
    check = ledger_check()
    return {
        "ok": check.ok,
        "supply": money_str(check.supply),
        "total": money_str(check.total),
        "unbalanced_entries": check.unbalanced_entries,
        "drifted_accounts": check.drifted_accounts,
    }
