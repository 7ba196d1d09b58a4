"""`aitbc job ...`: submit AI jobs and follow them (a client key)."""

import time

import click

from aitbc_cli.client import api_command, emit, json_argument
from aitbc_client.canonical import receipt_verify

FINAL_STATES = ("COMPLETED", "FAILED", "CANCELED", "EXPIRED")


@click.group()
def job():
    """AI jobs: submit, follow, read results and receipts."""


def job_line(view: dict) -> str:
    parts = [f"job {view['job_id']}", view["state"], f"type={view['type']}", f"attempts={view['attempts']}"]
    if view.get("price"):
        parts.append(f"price={view['price']} fee={view['fee']} AIT")
    if view.get("billed_units"):
        reported = view.get("reported_units")
        clamped = f" (the miner reported {reported})" if reported and reported != view["billed_units"] else ""
        parts.append(f"billed={view['billed_units']} GPU-s{clamped}")
    if view.get("waiting_reason"):
        parts.append(f"({view['waiting_reason']})")
    if view.get("error"):
        parts.append(f"error: {view['error'].get('message') or view['error'].get('code')}")
    return "  ".join(parts)


def job_wait(api, job_id: str, *, as_json: bool, timeout: float) -> dict:
    """Shows each change of state until the job ends."""
    deadline, last = time.monotonic() + timeout, None
    while True:
        view = api.get("ai", f"/v1/jobs/{job_id}")
        line = job_line(view)
        if line != last and not as_json:
            click.echo(line, err=True)
            last = line
        if view["state"] in FINAL_STATES:
            return view
        if time.monotonic() > deadline:
            raise click.ClickException(f"job {job_id} is still {view['state']} after {timeout:.0f} s")
        time.sleep(0.5)


@job.command("submit")
@click.option("--type", "job_type", required=True, help="echo, sleep, matmul, or a plugin's type.")
@click.option("--payload", default="{}", help="The job's payload as JSON.")
@click.option("--max-price", default="1", show_default=True, help="AIT held in escrow; the most the job may cost.")
@click.option("--ttl", "ttl_seconds", type=int, default=900, show_default=True)
@click.option("--gpu-model", help="Constraint, e.g. H100.")
@click.option("--min-vram-gb", type=float)
@click.option("--cuda", help="Minimum CUDA version, e.g. 12.4.")
@click.option("--region")
@click.option("--model", "models", multiple=True, help="A model the miner must have (repeatable).")
@click.option("--priority", type=int, default=0)
@click.option("--idempotency-key", help="Submitting again with the same key returns the same job.")
@click.option("--wait", "wait_", is_flag=True, help="Show progress until the job ends, then its result.")
@click.option("--timeout", type=float, default=3600, help="How long --wait waits.")
@api_command
def job_submit(api, as_json, job_type, payload, max_price, ttl_seconds, gpu_model, min_vram_gb, cuda, region, models,
               priority, idempotency_key, wait_, timeout):  # fmt: skip
    """Submit a job; its max price is held until it ends."""
    constraints = {"gpu_model": gpu_model, "min_vram_gb": min_vram_gb, "cuda": cuda, "region": region}
    constraints = {k: v for k, v in constraints.items() if v is not None}
    if models:
        constraints["models"] = list(models)
    body = {
        "type": job_type,
        "payload": json_argument(payload, "--payload"),
        "constraints": constraints,
        "max_price": max_price,
        "ttl_seconds": ttl_seconds,
        "priority": priority,
    }
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    view = api.post("ai", "/v1/jobs", json=body, headers=headers).json()
    if not wait_:
        return emit(view, as_json, job_line(view))
    if not as_json:
        click.echo(job_line(view), err=True)
    view = job_wait(api, view["job_id"], as_json=as_json, timeout=timeout)
    _show_outcome(api, view, as_json)


def _show_outcome(api, view: dict, as_json: bool) -> None:
    if view["state"] != "COMPLETED":
        emit(view, as_json, job_line(view))
        raise SystemExit(1)
    result = api.get("ai", f"/v1/jobs/{view['job_id']}/result")
    emit({**view, "result": result["result"]}, as_json, _pretty(result["result"]))


def _pretty(value) -> str:
    import json

    return json.dumps(value, indent=2)


@job.command("status")
@click.argument("job_id")
@api_command
def job_status(api, as_json, job_id):
    """A job's state, price and error."""
    view = api.get("ai", f"/v1/jobs/{job_id}")
    emit(view, as_json, job_line(view))


@job.command("wait")
@click.argument("job_id")
@click.option("--timeout", type=float, default=3600)
@api_command
def job_wait_command(api, as_json, job_id, timeout):
    """Show progress until the job ends, then its result."""
    _show_outcome(api, job_wait(api, job_id, as_json=as_json, timeout=timeout), as_json)


@job.command("result")
@click.argument("job_id")
@api_command
def job_result(api, as_json, job_id):
    """A completed job's result."""
    result = api.get("ai", f"/v1/jobs/{job_id}/result")
    emit(result, as_json, _pretty(result["result"]))


@job.command("cancel")
@click.argument("job_id")
@api_command
def job_cancel(api, as_json, job_id):
    """Cancel a job that has not finished; its escrow is released."""
    view = api.post("ai", f"/v1/jobs/{job_id}/cancel").json()
    emit(view, as_json, job_line(view))


@job.command("list")
@click.option("--state")
@click.option("--type", "job_type")
@click.option("--limit", type=int, default=20, show_default=True)
@api_command
def job_list(api, as_json, state, job_type, limit):
    """Your jobs, newest first."""
    params = {k: v for k, v in {"state": state, "type": job_type, "limit": limit}.items() if v}
    page = api.get("ai", "/v1/jobs", params=params)
    emit(page, as_json, "\n".join(job_line(v) for v in page["items"]) or "no jobs")


@job.command("receipt")
@click.argument("job_id")
@click.option("--verify", is_flag=True, help="Check the signature against the platform's published keys.")
@api_command
def job_receipt(api, as_json, job_id, verify):
    """A completed job's signed receipt."""
    receipt = api.get("ai", f"/v1/jobs/{job_id}/receipt")
    if not verify:
        return emit(receipt, as_json)
    keys = api.get("trading", "/v1/explorer/keys")["keys"]
    problem = receipt_verify(receipt, keys)
    verdict = "valid" if problem is None else f"INVALID ({problem})"
    emit(
        {"receipt": receipt, "valid": problem is None, "problem": problem},
        as_json,
        f"{_pretty(receipt)}\nsignature: {verdict}",
    )
    if problem:
        raise SystemExit(1)
