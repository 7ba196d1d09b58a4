"""`aitbc gov ...`: proposals, votes, delegation, execution, the DAO treasury and the platform parameters."""

import click

from aitbc_cli.client import api_command, emit, json_argument, once

STATUSES = ["PENDING", "ACTIVE", "SUCCEEDED", "DEFEATED", "EXECUTED", "CANCELED"]


@click.group()
def gov():
    """Govern the platform: propose, vote, delegate, execute; the treasury and parameters."""


def proposal_line(p: dict) -> str:
    tally = f"for {p['for_votes']} against {p['against_votes']} abstain {p['abstain_votes']} / quorum {p['quorum']}"
    return f"{p['proposal_id']}  {p['status']:9}  {p['category']:9}  {tally}  {p['title']}"


def window(p: dict) -> str:
    return f"voting {p['voting_starts_at']} .. {p['voting_ends_at']}"


def _payload(category, parameter, value, to, amount, payload) -> dict | None:
    if payload:
        return json_argument(payload, "--payload")
    if category == "parameter":
        if parameter is None or value is None:
            raise click.UsageError("a parameter proposal needs --parameter NAME --value N")
        return {"parameter": parameter, "value": value}
    if category == "funding":
        if to is None or amount is None:
            raise click.UsageError("a funding proposal needs --to PRINCIPAL_ID --amount AIT")
        return {"to_principal_id": to, "amount": amount}
    return None


@gov.command("propose")
@click.option("--title", required=True)
@click.option("--description", default="")
@click.option("--category", type=click.Choice(["text", "parameter", "funding"]), default="text", show_default=True)
@click.option("--parameter", help="parameter proposals: the parameter's name (see `aitbc gov params`).")
@click.option("--value", type=int, help="parameter proposals: its new value.")
@click.option("--to", "to", help="funding proposals: the principal to pay.")
@click.option("--amount", help="funding proposals: AIT to pay from the treasury.")
@click.option("--payload", help="the execution_payload as JSON, instead of the options above.")
@api_command
def gov_propose(api, as_json, title, description, category, parameter, value, to, amount, payload):
    """Make a proposal (needs 100 voting power); voting starts after the voting delay."""
    body = {"title": title, "description": description, "category": category}
    body["execution_payload"] = _payload(category, parameter, value, to, amount, payload)
    created = api.post("governance", "/v1/governance/proposals", json=body, headers=once()).json()
    emit(created, as_json, f"{proposal_line(created)}\n{window(created)}")


@gov.command("vote")
@click.argument("proposal_id")
@click.argument("choice", type=click.Choice(["for", "against", "abstain"]))
@click.option("--reason", default="")
@api_command
def gov_vote(api, as_json, proposal_id, choice, reason):
    """Vote once on an ACTIVE proposal, with your power at its snapshot."""
    path = f"/v1/governance/proposals/{proposal_id}/votes"
    vote = api.post("governance", path, json={"vote": choice, "reason": reason}, headers=once()).json()
    emit(vote, as_json, f"voted {vote['vote']} with {vote['weight']}\n{proposal_line(vote['proposal'])}")


@gov.command("delegate")
@click.argument("to_principal_id", required=False)
@click.option("--undo", is_flag=True, help="take your voting power back")
@api_command
def gov_delegate(api, as_json, to_principal_id, undo):
    """Lend your voting power to another principal (or take it back with --undo)."""
    if undo == bool(to_principal_id):
        raise click.UsageError("give TO_PRINCIPAL_ID, or --undo")
    if undo:
        profile = api.post("governance", "/v1/governance/undelegate").json()
        emit(profile, as_json, "your voting power is yours again")
        return
    body = {"to_principal_id": to_principal_id}
    profile = api.post("governance", "/v1/governance/delegate", json=body, headers=once()).json()
    emit(profile, as_json, f"your voting power now counts for {profile['delegate_id']}")


@gov.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--category", type=click.Choice(["text", "parameter", "funding"]))
@click.option("--mine", is_flag=True)
@click.option("--limit", type=int, default=50, show_default=True)
@api_command
def gov_list(api, as_json, status, category, mine, limit):
    """Proposals, newest first."""
    params = {k: v for k, v in {"status": status, "category": category, "mine": mine, "limit": limit}.items() if v}
    page = api.get("governance", "/v1/governance/proposals", params=params)
    emit(page, as_json, "\n".join(proposal_line(p) for p in page["items"]) or "no proposals")


@gov.command("show")
@click.argument("proposal_id")
@api_command
def gov_show(api, as_json, proposal_id):
    """A proposal with its tallies, windows and votes."""
    proposal = api.get("governance", f"/v1/governance/proposals/{proposal_id}")
    votes = api.get("governance", f"/v1/governance/proposals/{proposal_id}/votes", params={"limit": 500})
    lines = [
        proposal_line(proposal),
        f"payload {proposal['execution_payload']}",
        f"{window(proposal)}; executable {proposal['executable_at']}",
        *(f"  {v['voter_id']}  {v['vote']:7}  {v['weight']}  {v['reason']}" for v in votes["items"]),
    ]
    emit({**proposal, "votes": votes["items"]}, as_json, "\n".join(lines))


@gov.command("execute")
@click.argument("proposal_id")
@api_command
def gov_execute(api, as_json, proposal_id):
    """Execute a SUCCEEDED proposal after its timelock (anyone may)."""
    path = f"/v1/governance/proposals/{proposal_id}/execute"
    done = api.post("governance", path, headers=once()).json()
    emit(done, as_json, f"{proposal_line(done)}\nresult {done['execution_result']}")


@gov.command("cancel")
@click.argument("proposal_id")
@api_command
def gov_cancel(api, as_json, proposal_id):
    """Withdraw your proposal before its vote starts."""
    done = api.post("governance", f"/v1/governance/proposals/{proposal_id}/cancel").json()
    emit(done, as_json, proposal_line(done))


@gov.command("treasury")
@api_command
def gov_treasury(api, as_json):
    """The DAO treasury: balance, allocated, inflow and outflow by source."""
    t = api.get("governance", "/v1/governance/treasury")
    flows = [f"  in  {k:18} {v}" for k, v in t["inflow"].items()] + [
        f"  out {k:18} {v}" for k, v in t["outflow"].items()
    ]
    text = (
        f"balance {t['balance']}  allocated {t['allocated']}  available {t['available']}  "
        f"requested {t['requested']}  paid out {t['paid_out']}  fees to sweep {t['fees_pending_sweep']} AIT"
    )
    emit(t, as_json, "\n".join([text, *flows]))


@gov.command("params")
@api_command
def gov_params(api, as_json):
    """The platform parameters in force and their bounds."""
    page = api.get("governance", "/v1/governance/parameters")
    lines = [
        f"{p['name']:22} {p['value']:>8}  [{p['minimum']}..{p['maximum']}]  {p['description']}" for p in page["items"]
    ]
    emit(page, as_json, "\n".join(lines))


@gov.command("report")
@click.option("--period", type=click.Choice(["day", "week", "month"]), default="day", show_default=True)
@click.option("--day", help="YYYY-MM-DD, a day in the period (default: today).")
@api_command
def gov_report(api, as_json, period, day):
    """The transparency report of a period (generated now from stored data)."""
    report = api.post("governance", "/v1/governance/reports", json={"period": period, "day": day}).json()
    emit(report, as_json)
