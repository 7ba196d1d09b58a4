"""`aitbc wallet ...`: balances and transfers on the ledger."""

import click

from aitbc_cli.client import api_command, emit, once


@click.group()
def wallet():
    """Your AIT: balance, entries, transfers; credits from the treasury (admin)."""


@wallet.command("balance")
@api_command
def wallet_balance(api, as_json):
    """balance, held (escrow for open jobs) and available."""
    account = api.get("trading", "/v1/accounts/me")
    emit(
        account, as_json, f"balance {account['balance']}  held {account['held']}  available {account['available']} AIT"
    )


@wallet.command("entries")
@click.option("--limit", type=int, default=20, show_default=True)
@api_command
def wallet_entries(api, as_json, limit):
    """Your ledger entries, newest first."""
    page = api.get("trading", "/v1/accounts/me/entries", params={"limit": limit})
    lines = [f"{e['created_at']}  {e['amount']:>20}  {e['kind']:12} {e['memo']}" for e in page["items"]]
    emit(page, as_json, "\n".join(lines) or "no entries")


def _movement(api, path: str, body: dict) -> dict:
    return api.post("trading", path, json=body, headers=once()).json()


@wallet.command("credit")
@click.argument("principal_id")
@click.argument("amount")
@click.option("--memo", default="")
@api_command
def wallet_credit(api, as_json, principal_id, amount, memo):
    """Credit a principal from the treasury (admin key)."""
    moved = _movement(api, "/v1/ledger/credits", {"principal_id": principal_id, "amount": amount, "memo": memo})
    emit(moved, as_json, f"credited {moved['amount']} AIT to {principal_id}")


@wallet.command("transfer")
@click.argument("to_principal_id")
@click.argument("amount")
@click.option("--memo", default="")
@api_command
def wallet_transfer(api, as_json, to_principal_id, amount, memo):
    """Send AIT to another principal."""
    moved = _movement(api, "/v1/transfers", {"to_principal_id": to_principal_id, "amount": amount, "memo": memo})
    emit(moved, as_json, f"sent {moved['amount']} AIT to {to_principal_id}")
