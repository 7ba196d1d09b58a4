"""Hybrid execution and agent collaboration: thin layers that plan a workflow, then run it as one.

- Hybrid execution: each step is placed "local" (on the caller's own miner, named by its region and GPU
  model) or "marketplace" by the offload decision; local steps get those as constraints. The placements and
  their reasons are kept as the workflow's plan.
- Collaboration: each step names a skill; skill routing picks the agent for it, and the step's job is a job
  of that type constrained to the agent's region and its miner's GPU model. The routing (agent, score,
  explanation, and the unit price the agent advertised) is kept as the workflow's plan, and each step
  records its agent. The step's job is charged that advertised price, not its miner's own (advance.py).
"""

from dataclasses import replace
from statistics import median

from aitbc_site.errors import Invalid
from aitbc_site.money import money_str
from apps.accounts.facade import PrincipalView
from apps.gpu import facade as gpu
from apps.hermes.models import Agent, Workflow, WorkflowKind
from apps.hermes.selectors import agent_records, reliability
from apps.hermes.services.offload import LocalSpec, OffloadRequest, offload_decide
from apps.hermes.services.routing import RouteRequest, skill_route
from apps.hermes.services.workflows import StepSpec, payload_refs, steps_checked, workflow_create


def hybrid_create(
    *, client: PrincipalView, steps: list[StepSpec], local: LocalSpec, region: str, prefer: str, name: str = ""
) -> Workflow:
    if not (region or local.gpu_model):
        raise Invalid("local: give region and/or gpu_model, so that local steps can be placed on your own miner")
    steps_checked(steps)
    placed, plan = [], {}
    for step in steps:
        decision = offload_decide(
            OffloadRequest(
                type=step.type,
                max_price=step.max_price,
                local=local,
                payload={} if payload_refs(step.payload) else step.payload,
                constraints=step.constraints,
                prefer=prefer,
            )
        )
        if decision["decision"] == "local":
            pinned = {k: v for k, v in {"region": region, "gpu_model": local.gpu_model}.items() if v}
            step = replace(step, constraints={**step.constraints, **pinned})
        placed.append(step)
        plan[step.id] = {"placement": decision["decision"], "reason": decision["reason"]}
    return workflow_create(client=client, steps=placed, name=name, kind=WorkflowKind.HYBRID, plan=plan)


def collaboration_create(*, client: PrincipalView, steps: list[StepSpec], region: str = "", name: str = "") -> Workflow:
    """Each step's `type` is the skill it needs; 404 (nothing created) when no agent qualifies for one."""
    steps_checked(steps)
    routed, plan = [], {}
    for step in steps:
        route = skill_route(RouteRequest(skill=step.type, region=region))
        miner = gpu.miners_by_id([route["miner_id"]]).get(route["miner_id"])
        pinned = {"region": route["region"]} if route["region"] else {}
        if miner and miner.gpus:
            pinned["gpu_model"] = miner.gpus[0][0]
        routed.append(replace(step, constraints={**step.constraints, **pinned}, agent_id=route["agent_id"]))
        plan[step.id] = {
            "agent_id": str(route["agent_id"]),
            "agent": route["name"],
            "score": route["score"],
            "explanation": route["explanation"],
            "unit_price": route["unit_price"],  # AIT per GPU-second, as advertised when routed: the step's quote
        }
    return workflow_create(client=client, steps=routed, name=name, kind=WorkflowKind.COLLABORATION, plan=plan)


def ecosystem_skills() -> list[dict]:
    """Every skill agents offer, with how many agents (and online ones), their prices and track record."""
    agents = list(Agent.objects.all())
    records = agent_records(agents)
    miners = gpu.miners_by_id({a.miner_id for a in agents})
    skills: dict[str, list[Agent]] = {}
    for agent in agents:
        for skill in agent.skills:
            skills.setdefault(skill, []).append(agent)
    rows = []
    for skill, offering in sorted(skills.items()):
        prices = [a.unit_price for a in offering]
        serving = {a.miner_id for a in offering}  # agents sharing a miner share its record
        completed = sum(records[m]["completed"] for m in serving)
        failed = sum(records[m]["failed"] for m in serving)
        rows.append(
            {
                "skill": skill,
                "agents": len(offering),
                "agents_online": sum(1 for a in offering if (m := miners.get(a.miner_id)) and m.online),
                "min_unit_price": money_str(min(prices)),
                "median_unit_price": money_str(median(prices)),
                "jobs_completed": completed,
                "jobs_failed": failed,
                "reliability": round(reliability(completed, failed), 6),
                "regions": sorted({a.region for a in offering if a.region}),
            }
        )
    return rows
