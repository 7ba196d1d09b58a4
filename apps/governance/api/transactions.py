"""`/v1/transactions` on the governance service: the governance event log (GET), and the seed's governance
actions (POST {"action": ..., "params": {...}}): propose, vote, execute, cancel, delegate, undelegate, list,
show, status. Each action's params have their own schema (the body of the matching /v1/governance call), so a
wrong type is a 422 before anything runs; each action is a thin call into the same services."""

from typing import Annotated, Literal
from uuid import UUID

from ninja import Field, Query, Router, Schema
from ninja import Status as Answer
from pydantic import ConfigDict

from aitbc_site.api import Error
from apps.accounts.auth import any_principal
from apps.accounts.idempotency import idempotent
from apps.governance.api.proposals import DelegateIn, ProposalIn, StatusName, VoteIn
from apps.governance.selectors import event_list, profile_view, proposal_get, proposal_list, proposal_view, vote_view
from apps.governance.services.execution import proposal_execute
from apps.governance.services.profiles import delegate_set, delegation_end
from apps.governance.services.proposals import proposal_cancel, proposal_create
from apps.governance.services.voting import vote_cast
from apps.governance.treasury import governance_status


class ProposalRef(Schema):
    model_config = ConfigDict(extra="forbid")
    proposal_id: UUID


class VoteParams(VoteIn):
    proposal_id: UUID


class NoParams(Schema):
    model_config = ConfigDict(extra="forbid")


class ListParams(Schema):
    model_config = ConfigDict(extra="forbid")
    status: StatusName | None = None
    limit: int = Field(default=100, ge=1, le=500)
    offset: int = Field(default=0, ge=0, le=1_000_000)


class ProposeAction(Schema):
    action: Literal["propose"]
    params: ProposalIn


class VoteAction(Schema):
    action: Literal["vote"]
    params: VoteParams


class ProposalAction(Schema):
    action: Literal["execute", "cancel", "show"]
    params: ProposalRef


class DelegateAction(Schema):
    action: Literal["delegate"]
    params: DelegateIn


class PlainAction(Schema):
    action: Literal["undelegate", "status"]
    params: NoParams = Field(default_factory=NoParams)


class ListAction(Schema):
    action: Literal["list"]
    params: ListParams = Field(default_factory=ListParams)


Action = Annotated[
    ProposeAction | VoteAction | ProposalAction | DelegateAction | PlainAction | ListAction,
    Field(discriminator="action"),
]


def run_action(who, body):
    action, params = body.action, body.params
    if action == "propose":
        return Answer(201, proposal_view(proposal_create(proposer=who, **params.model_dump())))
    if action == "vote":
        vote = vote_cast(voter=who, proposal_id=params.proposal_id, choice=params.vote, reason=params.reason)
        return Answer(201, vote_view(vote))
    if action == "execute":
        return proposal_view(proposal_execute(executor=who, proposal_id=params.proposal_id))
    if action == "cancel":
        return proposal_view(proposal_cancel(principal=who, proposal_id=params.proposal_id))
    if action == "show":
        return proposal_view(proposal_get(params.proposal_id))
    if action == "delegate":
        return profile_view(delegate_set(principal=who, to_principal_id=params.to_principal_id), who)
    if action == "undelegate":
        return profile_view(delegation_end(principal=who), who)
    if action == "status":
        return governance_status()
    count, items = proposal_list(status=params.status, limit=params.limit, offset=params.offset)
    return {"items": items, "count": count}


def transactions_router() -> Router:
    router = Router(tags=["transactions"])

    @router.get("/transactions", auth=any_principal, response={200: dict, 422: Error})
    def transactions(request, proposal_id: UUID | None = None, kind: str | None = Query(None, max_length=32),
                     limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):  # fmt: skip
        """The governance event log, newest first: proposals, votes, executions, delegations (public)."""
        count, items = event_list(proposal_id=proposal_id, kind=kind, limit=limit, offset=offset)
        return {"items": items, "count": count}

    @router.post("/transactions", auth=any_principal,
                 response={200: dict, 201: dict, 403: Error, 404: Error, 409: Error, 422: Error})  # fmt: skip
    @idempotent
    def transaction_action(request, body: Action):
        """The seed's governance actions; `params` are the body of the matching /v1/governance call
        (plus `proposal_id` for vote, execute, cancel and show; `status`, `limit` and `offset` for list)."""
        return run_action(request.auth, body)

    return router
