"""Making, canceling and closing proposals. Every change of status happens under the proposal's row lock."""

from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from aitbc_site.errors import Conflict, Forbidden, Invalid, NotFound
from aitbc_site.money import money, money_str
from apps.accounts.facade import PrincipalView, principal_get
from apps.governance.events import event_record
from apps.governance.facade import parameters_all
from apps.governance.lifecycle import DECIDED, status_at
from apps.governance.models import Category, GovernanceProfile, Proposal, Role, Status
from apps.governance.parameters import parameter_check
from apps.governance.power import voting_power
from apps.governance.rules import funding_quorum, funding_refusal, rules
from apps.governance.services.profiles import profile_ensure
from apps.trading import facade as ledger

DB = "governance"


def _parameter_payload(payload: dict) -> dict:
    if set(payload) != {"parameter", "value"}:
        raise Invalid('execution_payload: a parameter proposal is {"parameter", "value"}')
    name = payload["parameter"]
    if not isinstance(name, str):
        raise Invalid("execution_payload.parameter must be a parameter name")
    parameter_check(name, payload["value"], parameters_all())
    return {"parameter": name, "value": payload["value"]}


def _funding_payload(payload: dict) -> dict:
    if set(payload) != {"to_principal_id", "amount"}:
        raise Invalid('execution_payload: a funding proposal is {"to_principal_id", "amount"}')
    try:
        to_principal_id = UUID(str(payload["to_principal_id"]))
    except ValueError:
        raise Invalid("execution_payload.to_principal_id must be a principal id (UUID)") from None
    if principal_get(to_principal_id) is None:
        raise Invalid(f"execution_payload.to_principal_id: no active principal {to_principal_id}")
    if isinstance(payload["amount"], float | bool):
        raise Invalid('execution_payload.amount must be a decimal string, e.g. "25.5"')
    amount = money(payload["amount"], field="execution_payload.amount")
    if refusal := funding_refusal(amount, ledger.system_balances()["treasury"]):
        raise Invalid(f"execution_payload.amount: {refusal}", code="treasury_share_exceeded")
    return {"to_principal_id": str(to_principal_id), "amount": money_str(amount)}


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
