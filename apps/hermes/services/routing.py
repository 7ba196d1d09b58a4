"""Skill routing: the agents that offer a skill, ranked by price, reliability and load, each score explained.

- reliability r = (completed + 1) / (completed + failed + 2) over the runs of the agent's miner (job history);
- effective price = unit_price / r: what a successful run is expected to cost when a failed run is redone;
- price component = the cheapest effective price among the candidates / this agent's (1 for the cheapest);
- load component = the free share of the miner's slots now: 1 - (jobs assigned or running) / concurrency;
- score = weights.price x price + weights.load x load (the weights are in the request; defaults below).
"""

from dataclasses import dataclass
from decimal import Decimal

from aitbc_site.errors import Invalid, NotFound
from aitbc_site.money import money_str
from apps.ai import facade as ai
from apps.gpu import facade as gpu
from apps.hermes.models import Agent
from apps.hermes.selectors import agent_records, reliability

DEFAULT_WEIGHTS = {"price": 0.7, "load": 0.3}


@dataclass(frozen=True)
class RouteRequest:
    skill: str
    max_price: Decimal | None = None
    region: str = ""
    min_reliability: float = 0.0
    weights: dict | None = None


def _exclusion(agent: Agent, miner, request: RouteRequest, r: float) -> str | None:
    if miner is None:
        return "its miner is no longer registered"
    if not miner.online:
        return "its miner is offline"
    if request.region and agent.region != request.region:
        return f"region {agent.region or 'none'!r} is not {request.region!r}"
    if request.max_price is not None and agent.unit_price > request.max_price:
        return f"unit_price {money_str(agent.unit_price)} is above max_price {money_str(request.max_price)}"
    if r < request.min_reliability:
        return f"reliability {r:.3f} is below min_reliability {request.min_reliability:g}"
    return None


def _weights(request: RouteRequest) -> dict:
    weights = {**DEFAULT_WEIGHTS, **(request.weights or {})}
    if set(weights) != set(DEFAULT_WEIGHTS) or any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise Invalid("weights: give 'price' and/or 'load', each >= 0, not both 0")
    total = sum(weights.values())
    return {k: v / total for k, v in weights.items()}


def _candidate(agent, miner, record, load, r) -> dict:
    effective = agent.unit_price / Decimal(str(r)) if agent.unit_price > 0 else Decimal(0)
    free = max(miner.concurrency - load, 0) / miner.concurrency if miner.concurrency else 0.0
    return {
        "agent": agent,
        "effective": effective,
        "components": {
            "price": {"unit_price": money_str(agent.unit_price), "effective_price": f"{effective:.8f}"},
            "reliability": {**record, "value": round(r, 6)},
            "load": {"inflight": load, "concurrency": miner.concurrency, "value": round(free, 6)},
        },
    }


def _scored(candidates: list[dict], weights: dict) -> list[dict]:
    cheapest = min(c["effective"] for c in candidates)
    for c in candidates:
        price = 1.0 if c["effective"] == 0 else float(cheapest / c["effective"])
        load = c["components"]["load"]["value"]
        c["components"]["price"]["value"] = round(price, 6)
        c["score"] = round(weights["price"] * price + weights["load"] * load, 6)
        rel = c["components"]["reliability"]
        c["explanation"] = (
            f"{c['agent'].name}: effective price {c['components']['price']['effective_price']} = unit price "
            f"{c['components']['price']['unit_price']} / reliability {rel['value']:.3f} ({rel['completed']} completed, "
            f"{rel['failed']} failed); price {price:.3f} x {weights['price']:.2f} + free slots {load:.3f} "
            f"({c['components']['load']['inflight']}/{c['components']['load']['concurrency']} busy) x "
            f"{weights['load']:.2f} = {c['score']:.3f}"
        )
    return sorted(candidates, key=lambda c: (-c["score"], c["effective"], str(c["agent"].id)))


def skill_route(request: RouteRequest) -> dict:
    """{"agent_id", "score", "components", "explanation", "alternatives": [...], "excluded": [...]};
    404 naming why when no agent offers the skill or none of those that do qualifies."""
    weights = _weights(request)
    agents = [a for a in Agent.objects.order_by("created_at") if request.skill in a.skills]
    if not agents:
        raise NotFound(f"no agent offers the skill {request.skill!r}", code="no_agent_for_skill")
    miners = gpu.miners_by_id({a.miner_id for a in agents})
    records = agent_records(agents)
    loads = ai.miner_loads({a.miner_id for a in agents})
    candidates, excluded = [], []
    for agent in agents:
        record = records[agent.miner_id]
        r = reliability(record["completed"], record["failed"])
        reason = _exclusion(agent, miners.get(agent.miner_id), request, r)
        if reason:
            excluded.append({"agent_id": agent.id, "name": agent.name, "reason": reason})
            continue
        candidates.append(_candidate(agent, miners[agent.miner_id], record, loads.get(agent.miner_id, 0), r))
    if not candidates:
        reasons = "; ".join(f"{e['name']}: {e['reason']}" for e in excluded)
        raise NotFound(
            f"{len(agents)} agent(s) offer {request.skill!r} but none qualifies: {reasons}", code="no_agent_qualifies"
        )
    ranked = [_public(c) for c in _scored(candidates, weights)]
    best = ranked[0]
    return {**best, "skill": request.skill, "weights": weights, "alternatives": ranked[1:], "excluded": excluded}


def _public(c: dict) -> dict:
    agent = c["agent"]
    return {
        "agent_id": agent.id,
        "name": agent.name,
        "miner_id": agent.miner_id,
        "region": agent.region,
        "unit_price": money_str(agent.unit_price),
        "score": c["score"],
        "components": c["components"],
        "explanation": c["explanation"],
    }
