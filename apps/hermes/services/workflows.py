"""Workflows: a DAG of AI jobs. Created whole (422 for cycles, unknown dependencies or bad steps, 402 when the
client's available balance cannot cover the sum of the steps' max_price), then advanced by
`workflow_advance` (services/advance.py), which submits each step's job once its dependencies completed.

A step reads its dependencies' results through references in its payload: any JSON object of the form
{"$from": "STEP"} is replaced, before the step's job is submitted, by STEP's whole result, and
{"$from": "STEP.key.sub"} by the value at that path inside it. STEP must be one of the step's depends_on.
"""

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from graphlib import CycleError, TopologicalSorter
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from aitbc_client.canonical import canonical_json
from aitbc_site.errors import ApiError, Conflict, Invalid, PaymentRequired
from aitbc_site.inputs import AMOUNT_LIMIT
from aitbc_site.money import money_str
from aitbc_site.parameters import parameter_get
from apps.accounts.facade import PrincipalView
from apps.ai import facade as ai
from apps.hermes.models import REF, STEP_FINAL, StepState, Workflow, WorkflowKind, WorkflowStatus, WorkflowStep
from apps.hermes.tasks import advance_workflow
from apps.trading import facade as trading

log = logging.getLogger(__name__)
DB = "hermes"
# Bounds on a definition, checked before any other work on it (each reference is resolved, deep-copied, when
# its step is submitted): steps, references per step, and the size of the steps' payloads.
MAX_STEPS = 100
MAX_REFS_PER_STEP = 16
DEFINITION_PAYLOADS = 4  # the steps' payloads together: at most this many times one job's payload


@dataclass
class StepSpec:
    id: str
    type: str
    max_price: Decimal
    payload: dict = field(default_factory=dict)
    constraints: dict = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    ttl_seconds: int = 900
    agent_id: UUID | None = None


def payload_refs(value) -> list[str]:
    """Every "$from" reference inside a payload, as written ("step" or "step.key.sub")."""
    if isinstance(value, dict):
        if REF in value:
            return [value[REF]] if isinstance(value[REF], str) and len(value) == 1 else [repr(value)]
        return [ref for v in value.values() for ref in payload_refs(v)]
    if isinstance(value, list):
        return [ref for v in value for ref in payload_refs(v)]
    return []


def _too_large(what: str, limit: int) -> ApiError:
    return ApiError(f"{what} is larger than {limit} bytes", code="payload_too_large", status=413)


def _definition_bounded(steps: list[StepSpec]) -> None:
    """413/422 for a definition beyond its bounds, before references are looked at or anything is resolved."""
    if not 1 <= len(steps) <= MAX_STEPS:
        raise Invalid(f"steps: a workflow has from 1 to {MAX_STEPS} steps, not {len(steps)}")
    limit = settings.AITBC_MAX_PAYLOAD_BYTES
    total = 0
    for step in steps:
        size = len(canonical_json(step.payload))
        if size > limit:
            raise _too_large(f"steps.{step.id}.payload", limit)
        total += size
    if total > DEFINITION_PAYLOADS * limit:
        raise _too_large("the steps' payloads together", DEFINITION_PAYLOADS * limit)
    for step in steps:
        if len(refs := payload_refs(step.payload)) > MAX_REFS_PER_STEP:
            raise Invalid(f"steps.{step.id}.payload: {len(refs)} $from references; at most {MAX_REFS_PER_STEP}")


def _step_checked(step: StepSpec, known: set[str], ttl_range: tuple[int, int]) -> None:
    where = f"steps.{step.id}"
    unknown = [d for d in step.depends_on if d not in known]
    if unknown:
        raise Invalid(f"{where}.depends_on: unknown step(s) {', '.join(unknown)}")
    if step.id in step.depends_on:
        raise Invalid(f"{where}.depends_on: a step cannot depend on itself")
    refs = payload_refs(step.payload)
    for ref in refs:
        if not ref.startswith("{") and ref.split(".", 1)[0] in step.depends_on:
            continue
        raise Invalid(
            f'{where}.payload: {{"$from": ...}} must name one of the step\'s depends_on '
            f"({', '.join(step.depends_on) or 'none'}), optionally with .path; got {ref}"
        )
    ai.job_request_check(type=step.type, payload=None if refs else step.payload)
    if not ttl_range[0] <= step.ttl_seconds <= ttl_range[1]:
        raise Invalid(f"{where}.ttl_seconds must be from {ttl_range[0]} to {ttl_range[1]}")


def steps_checked(steps: list[StepSpec]) -> None:
    """4xx before anything is created: a definition beyond its bounds, duplicate ids, unknown dependencies,
    cycles, bad references or steps."""
    _definition_bounded(steps)
    ids = [s.id for s in steps]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise Invalid(f"steps: duplicate step id(s) {', '.join(duplicates)}")
    ttl_range = (parameter_get("job_ttl_min_s"), parameter_get("job_ttl_max_s"))
    for step in steps:
        _step_checked(step, set(ids), ttl_range)
    try:
        tuple(TopologicalSorter({s.id: s.depends_on for s in steps}).static_order())
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise Invalid(f"steps.depends_on: the dependencies form a cycle ({cycle})", code="workflow_cycle") from None


def _funds_checked(client: PrincipalView, total: Decimal) -> None:
    if total >= AMOUNT_LIMIT:
        raise Invalid(f"steps.max_price: they add up to {money_str(total)} AIT, not under {AMOUNT_LIMIT:f}")
    available = trading.account_balances(client.id)["available"]
    if total > available:
        raise PaymentRequired(
            f"the steps' max_price add up to {money_str(total)} AIT but only {money_str(available)} AIT is available"
        )


def workflow_create(
    *, client: PrincipalView, steps: list[StepSpec], name: str = "", kind=WorkflowKind.WORKFLOW, plan=None
) -> Workflow:
    steps_checked(steps)
    total = sum((s.max_price for s in steps), Decimal(0))
    _funds_checked(client, total)
    with transaction.atomic(using=DB):
        workflow = Workflow.objects.create(client_id=client.id, kind=kind, name=name, max_price=total, plan=plan or {})
        WorkflowStep.objects.bulk_create(
            WorkflowStep(
                workflow=workflow,
                step_id=s.id,
                position=i,
                type=s.type,
                payload=s.payload,
                constraints=s.constraints,
                max_price=s.max_price,
                ttl_seconds=s.ttl_seconds,
                depends_on=list(s.depends_on),
                agent_id=s.agent_id,
                submit_key=f"hermes:workflow:{workflow.id}:{s.id}",
            )
            for i, s in enumerate(steps)
        )
        transaction.on_commit(lambda: _advance_soon(advance_workflow, workflow.id), using=DB)
    return workflow


def _advance_soon(task, workflow_id: UUID) -> None:
    try:
        task.delay(str(workflow_id))
    except Exception:  # the periodic hermes.advance_workflows picks it up; creating it must not fail for this
        log.exception("could not enqueue the first advance of workflow %s; the beat will advance it", workflow_id)


def workflow_cancel(*, workflow: Workflow) -> Workflow:
    """Cancels the steps' unfinished jobs (their escrow is released) and every step that has not started."""
    with transaction.atomic(using=DB):
        workflow = Workflow.objects.select_for_update().get(id=workflow.id)
        if workflow.status != WorkflowStatus.RUNNING:
            raise Conflict(f"workflow {workflow.id} is already {workflow.status}", code="workflow_finished")
        now = timezone.now()
        for step in workflow.steps.exclude(state__in=STEP_FINAL):
            # a step whose submit committed in ai but not here still has its job, found by its key
            if not step.job_id:
                found = ai.job_find_by_key(client_id=workflow.client_id, idempotency_key=step.submit_key)
                step.job_id = found.job_id if found is not None else None
            if step.job_id:
                state = ai.job_cancel_for(client_id=workflow.client_id, job_id=step.job_id)
                step.state = StepState.FAILED if state == "EXPIRED" else state
            else:
                step.state = StepState.CANCELED
            step.finished_at = step.finished_at or now
            step.save()
        workflow.status, workflow.finished_at, workflow.error = (
            WorkflowStatus.CANCELED,
            now,
            "canceled by its client",
        )
        workflow.save()
    return workflow
