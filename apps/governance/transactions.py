"""`/v1/transactions` on the governance service: the governance event log (GET), and the seed's governance
actions (POST {"action": ...}): propose, vote, execute, cancel, delegate, undelegate, list, show, status.
Each action is a thin call into the same services the /v1/governance/... endpoints use."""

from typing import Any, Literal
from uuid import UUID

from ninja import Field, Query, Router, Schema
from ninja import Status as Answer

from aitbc_site.api import Error
from aitbc_site.errors import Invalid
from apps.accounts.auth import any_principal
from apps.accounts.idempotency import idempotent
from apps.governance.models import Status
from apps.governance.selectors import event_list, profile_view, proposal_get, proposal_list, proposal_view, vote_view
from apps.governance.services.execution import proposal_execute
from apps.governance.services.profiles import delegate_set, delegation_end
from apps.governance.services.proposals import proposal_cancel, proposal_create
from apps.governance.services.voting import vote_cast
from apps.governance.treasury import governance_status


class Action(Schema):
    action: Literal["propose", "vote", "execute", "cancel", "delegate", "undelegate", "list", "show", "status"]
    params: dict[str, Any] = Field(default_factory=dict)


def _proposal_id(params: dict) -> UUID:
    try:
        return UUID(str(params["proposal_id"]))
    except KeyError:
        raise Invalid("params: missing proposal_id") from None
    except ValueError:
        raise Invalid("params.proposal_id must be a UUID") from None


def _parsed(schema, params: dict) -> dict:
    return schema(**params).model_dump()


def run_action(who, action: str, params: dict):
    from apps.governance.api import DelegateIn, ProposalIn, VoteIn

    if action == "propose":
        return Answer(201, proposal_view(proposal_create(proposer=who, **_parsed(ProposalIn, params))))
    if action == "vote":
        body = _parsed(VoteIn, {k: v for k, v in params.items() if k != "proposal_id"})
        vote = vote_cast(voter=who, proposal_id=_proposal_id(params), choice=body["vote"], reason=body["reason"])
        return Answer(201, vote_view(vote))
    if action == "execute":
        return proposal_view(proposal_execute(executor=who, proposal_id=_proposal_id(params)))
    if action == "cancel":
        return proposal_view(proposal_cancel(principal=who, proposal_id=_proposal_id(params)))
    if action == "delegate":
        return profile_view(delegate_set(principal=who, **_parsed(DelegateIn, params)), who)
    if action == "undelegate":
        return profile_view(delegation_end(principal=who), who)
    if action == "show":
        return proposal_view(proposal_get(_proposal_id(params)))
    if action == "status":
        return governance_status()
    status = params.get("status")
    if status is not None and status not in Status.values:
        raise Invalid(f"params.status must be one of {', '.join(Status.values)}")
    count, items = proposal_list(status=status, limit=100)
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
        (plus `proposal_id` for vote, execute, cancel and show)."""
        return run_action(request.auth, body.action, body.params)

    return router
