"""Executing a proposal that passed: once, by anyone, after its timelock."""

from uuid import UUID

from django.db import transaction
from django.utils import timezone

from aitbc_site.errors import Conflict, Invalid
from aitbc_site.locks import advisory_lock
from aitbc_site.money import money_str
from aitbc_site.parameters import parameters_all, parameters_cache_clear
from aitbc_site.times import iso
from apps.accounts.facade import PrincipalView
from apps.governance.events import event_record
from apps.governance.facade import parameter_set
from apps.governance.models import Category, Proposal, Status
from apps.governance.rules import funding_refusal
from apps.governance.services.proposals import DB, funding_amount, proposal_locked
from apps.trading import facade as ledger


def funding_key(proposal_id: UUID) -> str:
    return f"governance:proposal:{proposal_id}:funding"


def _effect(proposal: Proposal) -> dict:
    """Does what the proposal says; raises (and nothing is done) when it cannot."""
    payload = proposal.execution_payload
    if proposal.category == Category.PARAMETER:
        old = parameters_all()[payload["parameter"]]
        try:
            parameter_set(payload["parameter"], payload["value"])
        except Invalid as exc:  # valid when proposed, but another change since makes it inconsistent
            raise Conflict(f"the change can no longer apply: {exc.detail}", code="parameter_rejected") from None
        return {"parameter": payload["parameter"], "old_value": old, "new_value": payload["value"]}
    if proposal.category == Category.FUNDING:
        amount = funding_amount(proposal)
        advisory_lock(DB, "treasury")  # funding executions one at a time: each checks the balance the last left
        if refusal := funding_refusal(amount, ledger.system_balances()["treasury"]):
            raise Conflict(f"the treasury has shrunk since: {refusal}", code="treasury_share_exceeded")
        entry_id = ledger.treasury_pay(
            to_owner=UUID(payload["to_principal_id"]),
            amount=amount,
            key=funding_key(proposal.id),
            memo=f"funding proposal: {proposal.title}"[:500],
            reference=str(proposal.id),
        )
        return {"entry_id": str(entry_id), "to_principal_id": payload["to_principal_id"], "amount": money_str(amount)}
    return {}


def proposal_execute(*, executor: PrincipalView, proposal_id: UUID) -> Proposal:
    """409 unless SUCCEEDED and past the timelock, and 409 once executed: the row lock makes it exactly once.

    A funding payment is keyed by the proposal, so even a crash between the ledger and this database
    cannot pay twice: executing again finds the same entry.
    """
    with transaction.atomic(using=DB):
        proposal = proposal_locked(proposal_id)
        if proposal.status == Status.EXECUTED:
            executed_at = iso(proposal.executed_at)
            raise Conflict(f"this proposal was already executed at {executed_at}", code="already_executed")
        if proposal.status != Status.SUCCEEDED:
            raise Conflict(
                f"only a SUCCEEDED proposal can be executed; this one is {proposal.status}", code="not_succeeded"
            )
        now = timezone.now()
        if now < proposal.executable_at:
            raise Conflict(
                f"the timelock runs until {iso(proposal.executable_at)}; execute it after that", code="timelocked"
            )
        result = _effect(proposal)
        proposal.status, proposal.executed_at, proposal.executed_by = Status.EXECUTED, now, executor.id
        proposal.execution_result = result
        proposal.save(update_fields=["status", "executed_at", "executed_by", "execution_result", "updated_at"])
        event_record("executed", proposal_id=proposal.id, principal_id=executor.id, **result)
    parameters_cache_clear()
    return proposal
