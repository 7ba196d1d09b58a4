"""`aitbc explorer ...`: the block log. `verify --file` works offline with only the public key."""

import json
from pathlib import Path

import click

from aitbc_cli.client import api_command, emit
from aitbc_client.chain import chain_verify, public_key_entry


@click.group()
def explorer():
    """Blocks, sealed transactions and receipts; verify the chain."""


def block_line(block: dict) -> str:
    return f"{block['height']:>6}  {block['hash']}  {block['tx_count']:>4} items  {block['sealed_at']}"


@explorer.command("blocks")
@click.option("--limit", type=int, default=20, show_default=True)
@api_command
def explorer_blocks(api, as_json, limit):
    """The newest blocks."""
    page = api.get("trading", "/v1/explorer/blocks", params={"limit": limit})
    emit(page, as_json, "\n".join(block_line(b) for b in page["items"]) or "no blocks yet")


@explorer.command("block")
@click.argument("height_or_hash")
@api_command
def explorer_block(api, as_json, height_or_hash):
    """One block with its items."""
    block = api.get("trading", f"/v1/explorer/blocks/{height_or_hash}")
    lines = [block_line(block)] + [f"        {i['kind']:11} {i['hash']}" for i in block["items"]]
    emit(block, as_json, "\n".join(lines))


@explorer.command("tx")
@click.argument("tx_hash")
@api_command
def explorer_tx(api, as_json, tx_hash):
    """A sealed ledger transaction or receipt by its hash."""
    emit(api.get("trading", f"/v1/explorer/transactions/{tx_hash}"), as_json)


@explorer.command("receipts")
@click.option("--job")
@click.option("--miner")
@click.option("--client")
@click.option("--limit", type=int, default=20, show_default=True)
@api_command
def explorer_receipts(api, as_json, job, miner, client, limit):
    """Signed job receipts, newest first."""
    params = {k: v for k, v in {"job_id": job, "miner_id": miner, "client_id": client, "limit": limit}.items() if v}
    page = api.get("trading", "/v1/explorer/receipts", params=params)
    lines = [f"{r['receipt_id']}  job {r['job_id']}  {r['price']} AIT  {r['completed_at']}" for r in page["items"]]
    emit(page, as_json, "\n".join(lines) or "no receipts")


@explorer.command("seal")
@api_command
def explorer_seal(api, as_json):
    """Seal what is new into a block now (admin key)."""
    sealed = api.post("trading", "/v1/explorer/seal").json()
    emit(sealed, as_json, block_line(sealed["block"]) if sealed["sealed"] else "nothing new to seal")


@explorer.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@api_command
def explorer_export(api, as_json, file):
    """Write the whole chain (blocks with items) and the published keys to FILE."""
    blocks, height = [], 0
    while page := api.get("trading", "/v1/explorer/export", params={"from_height": height, "limit": 500})["blocks"]:
        blocks += page
        height = page[-1]["height"] + 1
    keys = api.get("trading", "/v1/explorer/keys")["keys"]
    Path(file).write_text(json.dumps({"keys": keys, "blocks": blocks}))
    emit({"file": file, "blocks": len(blocks)}, as_json, f"wrote {len(blocks)} blocks to {file}")


@explorer.command("verify")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False), help="An exported chain, offline.")
@click.option("--public-key", help="With --file: the platform's base64 Ed25519 public key (the only trust).")
@click.option("--url", envvar="AITBC_URL", default="http://127.0.0.1:8080", show_default=True)
@click.option(
    "--key",
    envvar="AITBC_API_KEY",
    default="",
    hidden=True,
    help="With a key the platform re-checks now; without one it answers the check of its newest block.",
)
@click.option("--json", "as_json", is_flag=True)
def explorer_verify(file, public_key, url, key, as_json):
    """Verify the chain: online (the platform re-checks every block and stored row) or offline (--file)."""
    if file:
        if not public_key:
            raise click.UsageError(
                "--file needs --public-key: a chain is only as trustworthy as the key you check it with"
            )
        chain = json.loads(Path(file).read_text())
        report = chain_verify(chain["blocks"], [public_key_entry(public_key)])
    else:
        import httpx

        try:
            headers = {"X-Api-Key": key} if key else None
            report = httpx.get(f"{url.rstrip('/')}/trading/v1/explorer/verify", headers=headers, timeout=300).json()
        except httpx.HTTPError as exc:
            raise click.ClickException(f"cannot reach {url}: {exc}") from None
    if report["valid"]:
        text = f"valid: {report.get('checked_blocks', 0)} blocks up to height {report.get('height')}"
        if "sealed_receipts" in report:
            text += f", {report['sealed_receipts']} receipts sealed, {report['unsealed_receipts']} waiting for a block"
    else:
        text = f"INVALID at block {report['height']}: {report['problem']}"
    emit(report, as_json, text)
    if not report["valid"]:
        raise SystemExit(1)
