"""Advancing a workflow: follow the steps' jobs, fail the dependants of a failed step, submit every step whose
dependencies all completed, and finish the workflow when every step is final.

Safe to run any number of times, concurrently too: the workflow row is locked (others skip it), and a step's
job is submitted under the step's unique Idempotency-Key, so a repeat returns the same job instead of a
second one. Money is held only when a step's job is submitted; a step that never runs holds nothing.
"""

import copy
import logging
from decimal import Decimal
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from aitbc_site.errors import ApiError
from apps.ai import facade as ai
from apps.hermes.models import REF, STEP_FINAL, STEP_LIVE, Agent, StepState, Workflow, WorkflowStatus, WorkflowStep

log = logging.getLogger(__name__)
DB = "hermes"
BATCH = 200
JOB_TO_STEP = {"PENDING": StepState.QUEUED, "EXPIRED": StepState.FAILED}


class UnresolvedReference(Exception):
    pass


def _index(key: str) -> int | None:
    """The list index a path segment names ("0", "12"; not "²" nor 5,000 digits), else None."""
    return int(key) if key.isascii() and key.isdigit() and len(key) <= 9 else None


def _resolve(value, results: dict):
    if isinstance(value, dict):
        if set(value) == {REF}:
            step_id, _, path = value[REF].partition(".")
            found = results[step_id]
            for key in path.split(".") if path else ():
                if isinstance(found, list) and (index := _index(key)) is not None and index < len(found):
                    found = found[index]
                elif isinstance(found, dict) and key in found:
                    found = found[key]
                else:
                    ref, missing = value[REF][:200], key[:64]  # short enough for the step's error
                    raise UnresolvedReference(f"{ref!r}: the result of step {step_id} has no {missing!r}")
            return copy.deepcopy(found)
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    return value


def _steps_follow_jobs(steps: list[WorkflowStep], now) -> None:
    live = {s.job_id: s for s in steps if s.state in STEP_LIVE and s.job_id}
    for job_id, info in ai.jobs_info(live).items():
        step = live[job_id]
        state = JOB_TO_STEP.get(info.state, info.state)
        if state == step.state:
            continue
        step.state = state
        if state in STEP_FINAL:
            step.finished_at = info.finished_at or now
            if state != StepState.COMPLETED:
                step.error = f"job {job_id} is {info.state}: " + str((info.error or {}).get("message", ""))[:400]
        step.save()


def _dependants_fail(steps: list[WorkflowStep], now) -> bool:
    by_id = {s.step_id: s for s in steps}
    changed = False
    for step in steps:
        if step.state != StepState.WAITING:
            continue
        broken = [d for d in step.depends_on if by_id[d].state in (StepState.FAILED, StepState.CANCELED)]
        if broken:
            step.state, step.finished_at = StepState.FAILED, now
            step.error = f"not run: dependency {broken[0]} {by_id[broken[0]].state.lower()}"
            step.save()
            changed = True
    return changed


def _agent_terms(workflow: Workflow, step: WorkflowStep) -> tuple[str | None, Decimal | None]:
    """(miner, quote) of the agent a collaboration routed this step to: the job runs on that miner and nowhere
    else, and is charged the unit price the agent advertised when the step was routed (kept in the plan;
    the agent's price now for a plan without it), never its miner's own unit price. Both are per GPU-second,
    so the quote needs no conversion. (None, None) for a step routed to no agent."""
    if step.agent_id is None:
        return None, None
    agent = Agent.objects.filter(id=step.agent_id).values("miner_id", "unit_price").first()
    if agent is None:
        return None, None
    routed = (workflow.plan or {}).get(step.step_id) or {}
    quote = Decimal(routed["unit_price"]) if routed.get("unit_price") is not None else agent["unit_price"]
    return str(agent["miner_id"]), quote


def _step_submit(workflow: Workflow, step: WorkflowStep, results: dict, now) -> None:
    if step.agent_id is not None and not Agent.objects.filter(id=step.agent_id).exists():
        step.state, step.finished_at = StepState.FAILED, now  # it would run unpinned, not on the agent's miner
        step.error = f"not run: agent {step.agent_id}, which this step was routed to, was deleted"
        step.save()
        return
    miner_id, quote = _agent_terms(workflow, step)
    try:
        payload = _resolve(step.payload, results)
        info = ai.job_submit_for(
            client_id=workflow.client_id,
            type=step.type,
            payload=payload,
            constraints=step.constraints,
            max_price=step.max_price,
            ttl_seconds=step.ttl_seconds,
            idempotency_key=step.submit_key,
            pinned_miner_id=miner_id,
            quoted_unit_price=quote,
        )
    except UnresolvedReference as exc:
        step.state, step.finished_at, step.error = StepState.FAILED, now, f"not run: {exc}"[:500]
    except ApiError as exc:  # 402 short of funds, 422 a payload its dependency's result made invalid, ...
        step.state, step.finished_at, step.error = StepState.FAILED, now, f"not run: {exc.code}: {exc.detail}"[:500]
    else:
        step.job_id, step.submitted_at = info.job_id, now
        step.state = JOB_TO_STEP.get(info.state, info.state)
    step.save()


def _ready_submit(workflow: Workflow, steps: list[WorkflowStep], now) -> bool:
    by_id = {s.step_id: s for s in steps}
    ready = [
        s
        for s in steps
        if s.state == StepState.WAITING and all(by_id[d].state == StepState.COMPLETED for d in s.depends_on)
    ]
    if not ready:
        return False
    needed = {d for s in ready for d in s.depends_on}
    infos = ai.jobs_info([by_id[d].job_id for d in needed])
    results = {d: infos[by_id[d].job_id].result for d in needed}
    for step in ready:
        _step_submit(workflow, step, results, now)
    return True


def _finish_if_done(workflow: Workflow, steps: list[WorkflowStep], now) -> None:
    if any(s.state not in STEP_FINAL for s in steps):
        return
    failed = [s for s in steps if s.state != StepState.COMPLETED]
    workflow.status = WorkflowStatus.FAILED if failed else WorkflowStatus.COMPLETED
    workflow.error = f"step {failed[0].step_id}: {failed[0].error}"[:500] if failed else ""
    workflow.finished_at = now
    workflow.save()


def workflow_advance(workflow_id: UUID) -> str | None:
    """One pass over a running workflow; returns its status (None when another pass holds it or it is over)."""
    now = timezone.now()
    with transaction.atomic(using=DB):
        workflow = (
            Workflow.objects.select_for_update(skip_locked=True)
            .filter(id=workflow_id, status=WorkflowStatus.RUNNING)
            .first()
        )
        if workflow is None:
            return None
        steps = list(workflow.steps.order_by("position"))
        _steps_follow_jobs(steps, now)
        while _dependants_fail(steps, now) or _ready_submit(workflow, steps, now):
            pass
        _finish_if_done(workflow, steps, now)
        if workflow.status == WorkflowStatus.RUNNING:
            Workflow.objects.filter(id=workflow.id).update(updated_at=now)
    return workflow.status


def workflows_advance() -> dict:
    """The periodic pass: every running workflow, least recently advanced first."""
    ids = Workflow.objects.filter(status=WorkflowStatus.RUNNING).order_by("updated_at").values_list("id", flat=True)
    outcome: dict[str, int] = {}
    for workflow_id in list(ids[:BATCH]):
        try:
            status = workflow_advance(workflow_id)
        except Exception:
            # one broken workflow must not stop the others: it is tried again next pass, behind them (the
            # least recently advanced go first, so a failure that rolled back its own bump would starve them)
            log.exception("advancing workflow %s failed", workflow_id)
            Workflow.objects.filter(id=workflow_id).update(updated_at=timezone.now())
            status = "error"
        outcome[str(status)] = outcome.get(str(status), 0) + 1
    return outcome
