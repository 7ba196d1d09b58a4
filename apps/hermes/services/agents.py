"""Agents: a miner operator's named offer of skills (job types) served by one of its miners."""

from decimal import Decimal
from uuid import UUID

from django.db import IntegrityError, transaction

from aitbc_site.errors import Conflict, Invalid, NotFound
from apps.accounts.facade import PrincipalView
from apps.gpu import facade as gpu
from apps.hermes.models import Agent

DB = "hermes"


def _miner_checked(owner: PrincipalView, miner_id: UUID) -> None:
    """The miner must exist and be run by the caller (an admin may name any miner)."""
    miner = gpu.miners_by_id([miner_id]).get(miner_id)
    if miner is None or (miner.principal_id != owner.id and not owner.is_admin):
        raise Invalid(f"miner_id: {miner_id} is not a miner this key runs")


def _skills_checked(skills: list[str]) -> list[str]:
    cleaned = sorted({s.strip() for s in skills if s.strip()})
    if not cleaned:
        raise Invalid("skills: at least one skill is needed")
    return cleaned


def agent_get_for(principal: PrincipalView, agent_id: UUID) -> Agent:
    agent = Agent.objects.filter(id=agent_id).first()
    if agent is None or (agent.owner_id != principal.id and not principal.is_admin):
        raise NotFound(f"no agent {agent_id}")
    return agent


def agent_create(
    *, owner: PrincipalView, name: str, skills: list[str], unit_price: Decimal, region: str, miner_id: UUID
) -> Agent:
    _miner_checked(owner, miner_id)
    try:
        with transaction.atomic(using=DB):
            return Agent.objects.create(
                owner_id=owner.id,
                name=name,
                skills=_skills_checked(skills),
                unit_price=unit_price,
                region=region,
                miner_id=miner_id,
            )
    except IntegrityError:
        raise Conflict(f"you already have an agent named {name!r}", code="agent_exists") from None


def agent_update(*, principal: PrincipalView, agent_id: UUID, changes: dict) -> Agent:
    """Changes the given fields (name, skills, unit_price, region, miner_id) of the caller's agent."""
    with transaction.atomic(using=DB):
        agent = agent_get_for(principal, agent_id)
        agent = Agent.objects.select_for_update().get(id=agent.id)
        if "miner_id" in changes:
            _miner_checked(principal, changes["miner_id"])
        if "skills" in changes:
            changes["skills"] = _skills_checked(changes["skills"])
        for field, value in changes.items():
            setattr(agent, field, value)
        try:
            with transaction.atomic(using=DB):
                agent.save()
        except IntegrityError:
            raise Conflict(f"you already have an agent named {agent.name!r}", code="agent_exists") from None
    return agent


def agent_delete(*, principal: PrincipalView, agent_id: UUID) -> None:
    agent_get_for(principal, agent_id).delete()
