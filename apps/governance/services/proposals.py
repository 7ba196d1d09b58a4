"""Making, canceling and closing proposals. Every change of status happens under the proposal's row lock."""

from decimal import Decimal
from typing import Annotated, TypeVar
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from aitbc_site.errors import Conflict, Forbidden, Invalid, NotFound
from aitbc_site.inputs import INT64_MAX, Amount
from aitbc_site.money import money, money_str
from aitbc_site.parameters import parameter_check, parameters_all
from apps.accounts.facade import PrincipalView, principal_get
from apps.governance.events import event_record
from apps.governance.lifecycle import DECIDED, status_at
from apps.governance.models import Category, GovernanceProfile, Proposal, Role, Status
from apps.governance.power import voting_power
from apps.governance.rules import funding_quorum, funding_refusal, rules
from apps.governance.services.profiles import profile_ensure
from apps.trading import facade as ledger

DB = "governance"

_Payload = TypeVar("_Payload", bound=BaseModel)


class ParameterChange(BaseModel):
    """A parameter proposal's payload: which parameter, and its new whole value (ranges: parameters.py)."""

    model_config = ConfigDict(extra="forbid")
    parameter: str = Field(max_length=64)
    value: Annotated[StrictInt, Field(ge=-INT64_MAX - 1, le=INT64_MAX)]


class FundingGrant(BaseModel):
    """A funding proposal's payload: who is paid, and how much (a decimal string, never a float)."""

    model_config = ConfigDict(extra="forbid")
    to_principal_id: UUID
    amount: Amount

    @field_validator("amount", mode="before")
    @classmethod
    def _not_a_float(cls, value):
        if isinstance(value, float | bool):
            raise ValueError('must be a decimal string, e.g. "25.5"')
        return value


def _payload_parsed(model: type[_Payload], payload) -> _Payload:
    """`payload` as `model`, or 422 naming the first field that is wrong (execution_payload.<field>)."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(["execution_payload", *(str(part) for part in error["loc"])])
        raise Invalid(f"{where}: {error['msg']}") from None


def _parameter_payload(payload: dict) -> dict:
    change = _payload_parsed(ParameterChange, payload)
    parameter_check(change.parameter, change.value, parameters_all())
    return {"parameter": change.parameter, "value": change.value}


def _funding_payload(payload: dict) -> dict:
    grant = _payload_parsed(FundingGrant, payload)
    if principal_get(grant.to_principal_id) is None:
        raise Invalid(f"execution_payload.to_principal_id: no active principal {grant.to_principal_id}")
    amount = money(grant.amount, field="execution_payload.amount")
    if refusal := funding_refusal(amount, ledger.system_balances()["treasury"]):
        raise Invalid(f"execution_payload.amount: {refusal}", code="treasury_share_exceeded")
    return {"to_principal_id": str(grant.to_principal_id), "amount": money_str(amount)}


def payload_validate(category: str, payload: dict | None) -> dict:
    """The payload a proposal of `category` executes, checked now (422 naming what is wrong)."""
    payload = payload or {}
    if category == Category.PARAMETER:
        return _parameter_payload(payload)
    if category == Category.FUNDING:
        return _funding_payload(payload)
    if payload:
        raise Invalid("execution_payload: a text proposal executes nothing; leave it empty")
    return {}


def proposal_create(
    *, proposer: PrincipalView, title: str, description: str, category: str, execution_payload: dict | None
) -> Proposal:
    """403 below the proposal threshold of voting power; the snapshot of everyone's power is this moment.
    A funding proposal asking for more than its share of the treasury is 422; its quorum grows with its amount."""
    profile_ensure(proposer)
    now, current = timezone.now(), rules()
    power = voting_power(proposer.id, now)
    if power < current.proposal_threshold:
        raise Forbidden(
            f"proposing needs at least {money_str(current.proposal_threshold)} voting power; "
            f"you have {money_str(power)}",
            code="below_proposal_threshold",
        )
    payload = payload_validate(category, execution_payload)
    quorum = current.quorum
    if category == Category.FUNDING:
        quorum = funding_quorum(Decimal(payload["amount"]), current.quorum)
    starts = now + current.voting_delay
    ends = starts + current.voting_period
    with transaction.atomic(using=DB):
        proposal = Proposal.objects.create(
            proposer_id=proposer.id,
            title=title,
            description=description,
            category=category,
            execution_payload=payload,
            snapshot_at=now,
            proposer_power=power,
            voting_starts_at=starts,
            voting_ends_at=ends,
            executable_at=ends + current.timelock,
            quorum=quorum,
        )
        event_record("proposed", proposal_id=proposal.id, principal_id=proposer.id, category=category, title=title)
    return proposal


def proposal_locked(proposal_id: UUID) -> Proposal:
    """The proposal under a row lock (inside transaction.atomic(using="governance")), brought up to date."""
    proposal = Proposal.objects.select_for_update().filter(id=proposal_id).first()
    if proposal is None:
        raise NotFound(f"no proposal {proposal_id}")
    proposal_advance(proposal)
    return proposal


def proposal_advance(proposal: Proposal) -> bool:
    """Stores the status the clock has moved the proposal to (PENDING -> ACTIVE -> SUCCEEDED | DEFEATED)."""
    now = timezone.now()
    status = status_at(proposal, now)
    if status == proposal.status:
        return False
    proposal.status = status
    fields = ["status", "updated_at"]
    if status in DECIDED:
        proposal.decided_at = now
        fields.append("decided_at")
    proposal.save(update_fields=fields)
    event_record(
        "voting_started" if status == Status.ACTIVE else status.lower(),
        proposal_id=proposal.id,
        for_votes=money_str(proposal.for_votes),
        against_votes=money_str(proposal.against_votes),
        abstain_votes=money_str(proposal.abstain_votes),
    )
    return True


def proposals_close_due() -> int:
    """The beat's work: every open proposal whose window opened or closed is moved on. Returns how many moved."""
    now = timezone.now()
    due = Proposal.objects.filter(
        Q(status=Status.PENDING, voting_starts_at__lte=now) | Q(status=Status.ACTIVE, voting_ends_at__lte=now)
    )
    moved = 0
    for proposal_id in due.order_by("voting_starts_at").values_list("id", flat=True):
        with transaction.atomic(using=DB):
            proposal = Proposal.objects.select_for_update().get(id=proposal_id)
            moved += proposal_advance(proposal)
    return moved


def _may_cancel(principal: PrincipalView, proposal: Proposal) -> bool:
    if principal.id == proposal.proposer_id or principal.is_admin:
        return True
    profile = GovernanceProfile.objects.filter(principal_id=principal.id).first()
    return profile is not None and profile.role == Role.COUNCIL


def proposal_cancel(*, principal: PrincipalView, proposal_id: UUID) -> Proposal:
    """Its proposer (or the council, or an admin) withdraws it before voting starts; 409 after."""
    with transaction.atomic(using=DB):
        proposal = proposal_locked(proposal_id)
        if not _may_cancel(principal, proposal):
            raise Forbidden("only its proposer, the council or an admin may cancel a proposal")
        if proposal.status != Status.PENDING:
            raise Conflict(
                f"only a PENDING proposal can be canceled; this one is {proposal.status}", code="proposal_not_pending"
            )
        proposal.status, proposal.canceled_at = Status.CANCELED, timezone.now()
        proposal.save(update_fields=["status", "canceled_at", "updated_at"])
        event_record("canceled", proposal_id=proposal.id, principal_id=principal.id)
    return proposal


def funding_amount(proposal: Proposal) -> Decimal:
    return Decimal(proposal.execution_payload["amount"])
