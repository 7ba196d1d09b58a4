"""Governance over HTTP: profiles and delegation, proposals, votes, execution, parameters."""

from typing import Any, Literal
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from aitbc_site.api import Error
from apps.accounts.auth import admins, any_principal
from apps.accounts.idempotency import idempotent
from apps.governance.models import Proposal
from apps.governance.selectors import (
    parameters_view,
    profile_by_principal,
    profile_list,
    profile_view,
    proposal_get,
    proposal_list,
    proposal_view,
    vote_list,
    vote_view,
)
from apps.governance.services.execution import proposal_execute
from apps.governance.services.profiles import delegate_set, delegation_end, profile_ensure, profile_role_set
from apps.governance.services.proposals import proposal_cancel, proposal_create
from apps.governance.services.voting import vote_cast

router = Router(tags=["governance"])
LIMIT = Query(50, ge=1, le=500)
OFFSET = Query(0, ge=0, le=1_000_000)
StatusName = Literal["PENDING", "ACTIVE", "SUCCEEDED", "DEFEATED", "EXECUTED", "CANCELED"]


class ProposalIn(Schema):
    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=200)
    description: str = Field("", max_length=20000)
    category: Literal["text", "parameter", "funding"]
    execution_payload: dict[str, Any] | None = Field(
        None,
        description='parameter: {"parameter", "value"}; funding: {"to_principal_id", "amount"}; text: empty',
    )


class VoteIn(Schema):
    model_config = ConfigDict(extra="forbid")
    vote: Literal["for", "against", "abstain"]
    reason: str = Field("", max_length=1000)


class DelegateIn(Schema):
    model_config = ConfigDict(extra="forbid")
    to_principal_id: UUID


class RoleIn(Schema):
    model_config = ConfigDict(extra="forbid")
    role: Literal["member", "council"]


@router.get("/governance/profiles", auth=any_principal, response={200: dict, 422: Error})
def profiles_list(request, role: Literal["member", "delegate", "council", "admin"] | None = None,
                  limit: int = LIMIT, offset: int = OFFSET):  # fmt: skip
    """Governance profiles: roles, delegation, activity; voting power on your own (made on first use)."""
    profile_ensure(request.auth)
    count, items = profile_list(viewer=request.auth, role=role, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.post("/governance/profiles", auth=any_principal, response={200: dict})
def profiles_join(request):
    """Your profile (made if you have none yet)."""
    return profile_view(profile_ensure(request.auth), request.auth)


@router.get("/governance/profiles/me", auth=any_principal, response={200: dict})
def profiles_me(request):
    return profile_view(profile_ensure(request.auth), request.auth)


@router.get("/governance/profiles/{principal_id}", auth=any_principal, response={200: dict, 404: Error})
def profiles_get(request, principal_id: UUID):
    return profile_view(profile_by_principal(principal_id), request.auth)


@router.put("/governance/profiles/{principal_id}/role", auth=admins, response={200: dict, 404: Error, 409: Error})
def profiles_role(request, principal_id: UUID, body: RoleIn):
    """An admin seats a principal on the council (who may cancel proposals before their vote) or unseats it."""
    return profile_view(profile_role_set(admin=request.auth, principal_id=principal_id, role=body.role), request.auth)


@router.post("/governance/delegate", auth=any_principal, response={200: dict, 422: Error})
@idempotent
def delegate(request, body: DelegateIn):
    """From now on your balance counts as voting power of `to_principal_id` (snapshots taken after this)."""
    return profile_view(delegate_set(principal=request.auth, to_principal_id=body.to_principal_id), request.auth)


@router.post("/governance/undelegate", auth=any_principal, response={200: dict, 409: Error})
def undelegate(request):
    """Take your voting power back (for proposals made from now on)."""
    return profile_view(delegation_end(principal=request.auth), request.auth)


@router.post("/governance/proposals", auth=any_principal, response={201: dict, 403: Error, 422: Error})
@idempotent
def proposals_create(request, body: ProposalIn):
    """Needs at least the proposal threshold (100) of voting power; everyone's power is snapshotted now."""
    proposal = proposal_create(proposer=request.auth, **body.model_dump())
    return Status(201, proposal_view(proposal))


@router.get("/governance/proposals", auth=any_principal, response={200: dict, 422: Error})
def proposals_list(request, status: StatusName | None = None,
                   category: Literal["text", "parameter", "funding"] | None = None, mine: bool = False,
                   limit: int = LIMIT, offset: int = OFFSET):  # fmt: skip
    """Proposals, newest first, each with its status at this moment."""
    proposer = request.auth.id if mine else None
    count, items = proposal_list(status=status, category=category, proposer_id=proposer, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.get("/governance/proposals/{proposal_id}", auth=any_principal, response={200: dict, 404: Error})
def proposals_get(request, proposal_id: UUID):
    """Tallies (for, against, abstain), quorum, windows and status."""
    return proposal_view(proposal_get(proposal_id))


@router.post("/governance/proposals/{proposal_id}/votes", auth=any_principal,
             response={201: dict, 403: Error, 404: Error, 409: Error})  # fmt: skip
@idempotent
def votes_cast(request, proposal_id: UUID, body: VoteIn):
    """One vote per voter while the proposal is ACTIVE, weighted by your power at its snapshot."""
    vote = vote_cast(voter=request.auth, proposal_id=proposal_id, choice=body.vote, reason=body.reason)
    return Status(201, {**vote_view(vote), "proposal": proposal_view(Proposal.objects.get(id=proposal_id))})


@router.get("/governance/proposals/{proposal_id}/votes", auth=any_principal, response={200: dict, 404: Error})
def votes_list(request, proposal_id: UUID, limit: int = LIMIT, offset: int = OFFSET):
    count, items = vote_list(proposal_id, limit=limit, offset=offset)
    return {"items": items, "count": count}


@router.post("/governance/proposals/{proposal_id}/execute", auth=any_principal,
             response={200: dict, 404: Error, 409: Error})  # fmt: skip
@idempotent
def proposals_execute(request, proposal_id: UUID):
    """Anyone executes a SUCCEEDED proposal after its timelock, exactly once (409 after)."""
    return proposal_view(proposal_execute(executor=request.auth, proposal_id=proposal_id))


@router.post("/governance/proposals/{proposal_id}/cancel", auth=any_principal,
             response={200: dict, 403: Error, 404: Error, 409: Error})  # fmt: skip
def proposals_cancel(request, proposal_id: UUID):
    """Its proposer (or the council, or an admin) withdraws a proposal before voting starts."""
    return proposal_view(proposal_cancel(principal=request.auth, proposal_id=proposal_id))


@router.get("/governance/parameters", auth=any_principal)
def parameters(request):
    """The platform parameters in force, with their bounds (change them with a parameter proposal)."""
    items = parameters_view()
    return {"items": items, "count": len(items)}
