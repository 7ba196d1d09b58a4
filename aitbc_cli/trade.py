"""`aitbc trade ...`: bespoke trades (requests, offers, counter-terms, agreements, settlements)."""

import click

from aitbc_cli.client import api_command, emit, json_argument


@click.group()
def trade():
    """Request compute or a service, answer requests, agree and settle through the ledger."""


def match_line(m: dict) -> str:
    parts = m["score_breakdown"]["parts"]
    why = " ".join(f"{k}={v}" for k, v in parts.items())
    return (
        f"{m['match_id']}  {m['status']:9}  {m['price']:>16} AIT  score {m['score']:.3f} ({why})  by {m['proposed_by']}"
    )


def request_line(r: dict) -> str:
    return f"{r['request_id']}  {r['status']:8}  {r['trade_type']:10}  budget {r['budget']}  {r['title']}"


def agreement_line(a: dict) -> str:
    return f"{a['agreement_id']}  {a['status']:8}  {a['price']} AIT ({a['settlement']}), settled {a['settled_amount']}"


def terms_body(price, settlement, milestones, message) -> dict:
    parsed = [dict(zip(("title", "amount"), m.split("=", 1), strict=True)) for m in milestones]
    return {"price": price, "settlement": settlement, "milestones": parsed, "message": message}


def terms_options(func):
    func = click.option("--message", default="")(func)
    func = click.option("--milestone", "milestones", multiple=True, help="TITLE=AMOUNT, repeatable (milestones mode).")(
        func
    )
    func = click.option("--settlement", type=click.Choice(["immediate", "escrow", "milestones"]), default="escrow")(
        func
    )
    return click.option("--price", required=True, help="AIT.")(func)


@trade.command("request")
@click.option("--type", "trade_type", type=click.Choice(["compute", "ai_service", "data"]), default="compute")
@click.option("--title", required=True)
@click.option("--budget", required=True, help="AIT.")
@click.option("--requirements", default="{}", help='JSON, e.g. {"gpu_model": "H100", "hours": 10}.')
@click.option("--region", "regions", multiple=True)
@api_command
def trade_request(api, as_json, trade_type, title, budget, requirements, regions):
    """Post a request (buyer)."""
    body = {"trade_type": trade_type, "title": title, "budget": budget, "regions": list(regions)}
    body["requirements"] = json_argument(requirements, "--requirements")
    created = api.post("trading", "/v1/trading/requests", json=body).json()
    emit(created, as_json, request_line(created))


@trade.command("requests")
@click.option("--mine", is_flag=True)
@click.option("--status")
@api_command
def trade_requests(api, as_json, mine, status):
    """Open requests, or your own."""
    params = {k: v for k, v in {"mine": mine, "status": status}.items() if v}
    page = api.get("trading", "/v1/trading/requests", params=params)
    emit(page, as_json, "\n".join(request_line(r) for r in page["items"]) or "no requests")


@trade.command("offer")
@click.argument("request_id")
@terms_options
@click.option("--spec", default="{}", help='What you offer, JSON: {"gpu_model": ..., "vram_gb": ..., "hours": ...}.')
@click.option("--region", default="")
@api_command
def trade_offer(api, as_json, request_id, price, settlement, milestones, message, spec, region):
    """Answer a request (seller); the offer is scored for the buyer."""
    body = {**terms_body(price, settlement, milestones, message), "specification": json_argument(spec, "--spec")}
    match = api.post("trading", f"/v1/trading/requests/{request_id}/matches", json={**body, "region": region}).json()
    emit(match, as_json, match_line(match))


@trade.command("matches")
@click.argument("request_id")
@api_command
def trade_matches(api, as_json, request_id):
    """Offers on a request, best score first, each score explained."""
    page = api.get("trading", f"/v1/trading/requests/{request_id}/matches")
    emit(page, as_json, "\n".join(match_line(m) for m in page["items"]) or "no offers yet")


@trade.command("counter")
@click.argument("match_id")
@terms_options
@api_command
def trade_counter(api, as_json, match_id, price, settlement, milestones, message):
    """Propose new terms; the other side may accept them."""
    match = api.post(
        "trading", f"/v1/trading/matches/{match_id}/counter", json=terms_body(price, settlement, milestones, message)
    )
    emit(match.json(), as_json, match_line(match.json()))


@trade.command("accept")
@click.argument("match_id")
@api_command
def trade_accept(api, as_json, match_id):
    """Accept the terms on the table: an agreement (the buyer's money is held or paid)."""
    agreement = api.post("trading", f"/v1/trading/matches/{match_id}/accept").json()
    emit(agreement, as_json, agreement_line(agreement))


@trade.command("reject")
@click.argument("match_id")
@api_command
def trade_reject(api, as_json, match_id):
    """Turn an offer down."""
    match = api.post("trading", f"/v1/trading/matches/{match_id}/reject").json()
    emit(match, as_json, match_line(match))


@trade.command("agreements")
@api_command
def trade_agreements(api, as_json):
    """Your agreements."""
    page = api.get("trading", "/v1/trading/agreements")
    emit(page, as_json, "\n".join(agreement_line(a) for a in page["items"]) or "no agreements")


@trade.command("settle")
@click.argument("agreement_id")
@click.option("--milestone", "milestone_id", help="The milestone to pay (milestones mode).")
@click.option("--amount", help="Escrow mode: pay this much (at most the price); the rest goes back to you.")
@api_command
def trade_settle(api, as_json, agreement_id, milestone_id, amount):
    """Pay the seller (buyer): a milestone, or the escrow."""
    body = {k: v for k, v in {"milestone_id": milestone_id, "amount": amount}.items() if v}
    settled = api.post("trading", f"/v1/trading/agreements/{agreement_id}/settlements", json=body).json()
    emit(settled, as_json, f"paid {settled['amount']} AIT (fee {settled['fee']}) under {agreement_id}")


@trade.command("cancel")
@click.argument("agreement_id")
@api_command
def trade_cancel(api, as_json, agreement_id):
    """Walk away from an agreement (seller); what is held goes back to the buyer."""
    agreement = api.post("trading", f"/v1/trading/agreements/{agreement_id}/cancel").json()
    emit(agreement, as_json, agreement_line(agreement))


@trade.command("analytics")
@api_command
def trade_analytics(api, as_json):
    """Volumes, average prices and match rates."""
    emit(api.get("trading", "/v1/trading/analytics"), as_json)
