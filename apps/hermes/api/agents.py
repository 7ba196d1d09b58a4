from typing import Any
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from aitbc_site.api import Error
from aitbc_site.errors import Invalid
from aitbc_site.inputs import Amount, AmountOrZero
from apps.accounts.auth import ApiKeyAuth, any_principal, clients
from apps.accounts.idempotency import idempotent
from apps.ai.contracts import Constraints
from apps.hermes.api.schemas import SKILL, LocalIn, Skill
from apps.hermes.selectors import agent_list_for, agent_records, agent_view
from apps.hermes.services.agents import agent_create, agent_delete, agent_get_for, agent_update
from apps.hermes.services.composite import ecosystem_skills
from apps.hermes.services.offload import LocalSpec, OffloadRequest, offload_decide
from apps.hermes.services.routing import RouteRequest, skill_route

router = Router(tags=["agents and routing"])
operators = ApiKeyAuth("miner", "admin")


class AgentIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    skills: list[Skill] = Field(min_length=1, max_length=50, description="job types the agent's miner runs")
    unit_price: AmountOrZero = Field(description="AIT per GPU-second")
    region: str = Field("", max_length=64)
    miner_id: UUID = Field(description="a miner your key runs")


class AgentPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(None, min_length=1, max_length=100)
    skills: list[Skill] | None = Field(None, min_length=1, max_length=50)
    unit_price: AmountOrZero | None = None
    region: str | None = Field(None, max_length=64)
    miner_id: UUID | None = None


class AgentOut(Schema):
    agent_id: UUID
    owner_id: UUID
    name: str
    skills: list[str]
    unit_price: str
    region: str
    miner_id: UUID
    jobs_completed: int
    jobs_failed: int
    reliability: float
    created_at: str
    updated_at: str


class AgentList(Schema):
    items: list[AgentOut]
    count: int


def _view(agent) -> dict:
    return agent_view(agent, agent_records([agent])[agent.miner_id])


@router.post("/agents", auth=operators, response={201: AgentOut, 409: Error, 422: Error})
@idempotent
def agent_create_view(request, body: AgentIn):
    """An agent offering skills (job types) served by one of your miners; its reliability is that miner's record."""
    agent = agent_create(
        owner=request.auth,
        name=body.name,
        skills=body.skills,
        unit_price=body.unit_price,
        region=body.region,
        miner_id=body.miner_id,
    )
    return Status(201, _view(agent))


@router.get("/agents", auth=operators, response=AgentList)
def agent_list_view(
    request,
    skill: str | None = Query(None, max_length=64),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """Your agents (an admin sees all), each with the completed and failed runs of its miner."""
    count, items = agent_list_for(request.auth, skill=skill, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.get("/agents/{agent_id}", auth=operators, response={200: AgentOut, 404: Error})
def agent_get_view(request, agent_id: UUID):
    return _view(agent_get_for(request.auth, agent_id))


@router.patch("/agents/{agent_id}", auth=operators, response={200: AgentOut, 404: Error, 409: Error, 422: Error})
def agent_update_view(request, agent_id: UUID, body: AgentPatch):
    changes = body.model_dump(exclude_unset=True)
    if any(v is None for v in changes.values()):
        raise Invalid(f"{next(k for k, v in changes.items() if v is None)}: may not be null")
    return _view(agent_update(principal=request.auth, agent_id=agent_id, changes=changes))


@router.delete("/agents/{agent_id}", auth=operators, response={204: None, 404: Error})
def agent_delete_view(request, agent_id: UUID):
    agent_delete(principal=request.auth, agent_id=agent_id)
    return Status(204, None)


class Weights(Schema):
    """How much price and load count in a route's score; either may be left out (its default is kept)."""

    model_config = ConfigDict(extra="forbid")
    price: float | None = Field(None, ge=0, le=1000)
    load: float | None = Field(None, ge=0, le=1000)


class RouteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    skill: str = Field(pattern=SKILL)
    max_price: AmountOrZero | None = Field(None, description="most unit_price")
    region: str = Field("", max_length=64)
    min_reliability: float = Field(0, ge=0, le=1)
    weights: Weights | None = Field(None, description='{"price": 0.7, "load": 0.3} by default')


class Candidate(Schema):
    agent_id: UUID
    name: str
    miner_id: UUID
    region: str
    unit_price: str
    score: float
    components: dict[str, Any]
    explanation: str


class RouteOut(Candidate):
    skill: str
    weights: dict[str, float]
    alternatives: list[Candidate]
    excluded: list[dict[str, Any]]


@router.post("/skills/route", auth=any_principal, response={200: RouteOut, 404: Error, 422: Error})
def skill_route_view(request, body: RouteIn):
    """The best agent for a skill and the others ranked, each score explained; 404 with the reason when none fits."""
    weights = body.weights.model_dump(exclude_none=True) if body.weights else None
    return skill_route(RouteRequest(**body.model_dump(exclude={"weights"}), weights=weights))


class OffloadIn(Schema):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict)
    constraints: Constraints = Field(default_factory=Constraints)
    max_price: Amount
    local: LocalIn = Field(default_factory=LocalIn)
    prefer: str = Field("time", pattern="^(time|cost)$")


class OffloadOut(Schema):
    decision: str
    reason: str
    prefer: str
    history: dict[str, Any]
    local: dict[str, Any]
    marketplace: dict[str, Any]


@router.post("/offload/decide", auth=clients, response={200: OffloadOut, 413: Error, 422: Error})
def offload_decide_view(request, body: OffloadIn):
    """Run a job on your own GPU or on the marketplace: estimated cost and wait of each, from job history."""
    local = body.local.model_dump()
    local.pop("region")
    return offload_decide(
        OffloadRequest(
            type=body.type,
            payload=body.payload,
            constraints=body.constraints.model_dump(exclude_none=True),
            max_price=body.max_price,
            local=LocalSpec(**local),
            prefer=body.prefer,
        )
    )


class SkillRow(Schema):
    skill: str
    agents: int
    agents_online: int
    min_unit_price: str
    median_unit_price: str
    jobs_completed: int
    jobs_failed: int
    reliability: float
    regions: list[str]


class SkillList(Schema):
    items: list[SkillRow]
    count: int


@router.get("/ecosystem/skills", auth=any_principal, response=SkillList)
def ecosystem_skills_view(request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):
    """Every skill on offer, by name: agents (online), prices and the track record of the miners serving it."""
    rows = ecosystem_skills()
    return {"items": rows[offset : offset + limit], "count": len(rows)}
