"""Reads: agents with their track record, workflows with their steps, edge deployments with their replicas."""

from uuid import UUID

from aitbc_site.errors import NotFound
from aitbc_site.money import money_str
from aitbc_site.times import iso
from apps.accounts.facade import PrincipalView
from apps.ai import facade as ai
from apps.hermes.models import STEP_LIVE, Agent, EdgeDeployment, StepState, Workflow


def reliability(completed: int, failed: int) -> float:
    """Laplace's rule of succession: (completed + 1) / (runs + 2). An agent with no history is at 0.5 and
    every run moves it, so one lucky job does not make an agent perfectly reliable."""
    return (completed + 1) / (completed + failed + 2)


def agent_records(agents) -> dict:
    """{miner_id: {"completed", "failed"}} for the agents' miners, from real job history."""
    records = ai.miner_track_records({a.miner_id for a in agents})
    return {a.miner_id: records.get(a.miner_id, {"completed": 0, "failed": 0}) for a in agents}


def agent_view(agent: Agent, record: dict) -> dict:
    return {
        "agent_id": agent.id,
        "owner_id": agent.owner_id,
        "name": agent.name,
        "skills": agent.skills,
        "unit_price": money_str(agent.unit_price),
        "region": agent.region,
        "miner_id": agent.miner_id,
        "jobs_completed": record["completed"],
        "jobs_failed": record["failed"],
        "reliability": round(reliability(record["completed"], record["failed"]), 6),
        "created_at": iso(agent.created_at),
        "updated_at": iso(agent.updated_at),
    }


def agent_list_for(principal: PrincipalView, *, skill: str | None, limit: int, offset: int) -> tuple[int, list]:
    """One page of the principal's agents (an admin: everyone's), oldest first; only the page is read whole,
    and only its miners' records are looked up."""
    agents = Agent.objects.all() if principal.is_admin else Agent.objects.filter(owner_id=principal.id)
    agents = agents.order_by("created_at", "id")
    if skill is None:
        count, page = agents.count(), list(agents[offset : offset + limit])
    else:  # skills is a JSON list: matched here, as SQLite has no JSON containment lookup
        ids = [agent_id for agent_id, skills in agents.values_list("id", "skills") if skill in skills]
        count, page = len(ids), list(agents.filter(id__in=ids[offset : offset + limit]))
    records = agent_records(page)
    return count, [agent_view(a, records[a.miner_id]) for a in page]


def workflow_get_for(principal: PrincipalView, workflow_id: UUID) -> Workflow:
    workflow = Workflow.objects.filter(id=workflow_id).first()
    if workflow is None or (workflow.client_id != principal.id and not principal.is_admin):
        raise NotFound(f"no workflow {workflow_id}")
    return workflow


def _live_states(steps) -> dict:
    """The current state of the live steps' jobs (a step's stored state catches up at the next advance)."""
    live = [s.job_id for s in steps if s.state in STEP_LIVE and s.job_id]
    mapped = {"PENDING": StepState.QUEUED, "EXPIRED": StepState.FAILED}
    return {job_id: mapped.get(info.state, info.state) for job_id, info in ai.jobs_info(live).items()} if live else {}


def workflow_view(workflow: Workflow) -> dict:
    steps = list(workflow.steps.order_by("position"))
    live = _live_states(steps)
    return {
        "workflow_id": workflow.id,
        "kind": workflow.kind,
        "name": workflow.name,
        "status": workflow.status,
        "max_price": money_str(workflow.max_price),
        "error": workflow.error or None,
        "plan": workflow.plan,
        "created_at": iso(workflow.created_at),
        "finished_at": iso(workflow.finished_at),
        "steps": [
            {
                "id": s.step_id,
                "type": s.type,
                "job_id": s.job_id,
                "state": live.get(s.job_id, s.state),
                "depends_on": s.depends_on,
                "max_price": money_str(s.max_price),
                "agent_id": s.agent_id,
                "error": s.error or None,
                "submitted_at": iso(s.submitted_at),
                "finished_at": iso(s.finished_at),
            }
            for s in steps
        ],
    }


def workflow_list_for(principal: PrincipalView, *, status, kind, limit: int, offset: int) -> tuple[int, list]:
    rows = Workflow.objects.all() if principal.is_admin else Workflow.objects.filter(client_id=principal.id)
    if status:
        rows = rows.filter(status=status)
    if kind:
        rows = rows.filter(kind=kind)
    return rows.count(), [workflow_view(w) for w in rows.order_by("-created_at")[offset : offset + limit]]


def deployment_get_for(principal: PrincipalView, deployment_id: UUID) -> EdgeDeployment:
    deployment = EdgeDeployment.objects.filter(id=deployment_id).first()
    if deployment is None or (deployment.owner_id != principal.id and not principal.is_admin):
        raise NotFound(f"no edge deployment {deployment_id}")
    return deployment


def deployment_view(deployment: EdgeDeployment) -> dict:
    return {
        "deployment_id": deployment.id,
        "runner": deployment.runner,
        "constraints": deployment.constraints,
        "replicas": deployment.replicas,
        "status": deployment.status,
        "status_reason": deployment.status_reason or None,
        "created_at": iso(deployment.created_at),
        "replica_states": [
            {
                "replica_id": r.id,
                "miner_id": r.miner_id,
                "gpu_model": r.gpu_model,
                "profile": r.profile,
                "state": r.state,
                "reason": r.reason or None,
                "runner_version": r.runner_version or None,
                "reported_at": iso(r.reported_at),
                "choice": r.choice,
            }
            for r in deployment.replica_set.order_by("created_at")
        ],
    }


def deployment_list_for(principal: PrincipalView, *, limit: int, offset: int) -> tuple[int, list]:
    rows = EdgeDeployment.objects.all() if principal.is_admin else EdgeDeployment.objects.filter(owner_id=principal.id)
    return rows.count(), [deployment_view(d) for d in rows.order_by("-created_at")[offset : offset + limit]]
