"""`aitbc workflow ...`: run a DAG of AI jobs from a JSON file and follow it (a client key).

The file: {"name": "...", "steps": [{"id", "type", "payload", "constraints", "max_price", "depends_on": [...]}]}.
In a payload, {"$from": "STEP"} is replaced by STEP's result (or {"$from": "STEP.key"} by a part of it) before
the step's job is submitted; STEP must be one of the step's depends_on.
"""

import json
import time
from pathlib import Path

import click

from aitbc_cli.client import api_command, emit

FINAL = ("COMPLETED", "FAILED", "CANCELED")
ENDPOINTS = {"workflow": "/v1/workflows", "hybrid": "/v1/hybrid/executions", "collaboration": "/v1/collaborations"}


@click.group()
def workflow():
    """Workflows: DAGs of AI jobs, each step run when the steps it depends on completed."""


def step_line(step: dict) -> str:
    line = f"  step {step['id']}: {step['state']}"
    if step.get("job_id"):
        line += f" (job {step['job_id']})"
    if step.get("error"):
        line += f" - {step['error']}"
    return line


def workflow_text(view: dict) -> str:
    head = f"workflow {view['workflow_id']} ({view['kind']}): {view['status']}"
    if view.get("error"):
        head += f" - {view['error']}"
    return "\n".join([head, *(step_line(s) for s in view["steps"])])


def workflow_follow(api, workflow_id: str, *, as_json: bool, timeout: float) -> dict:
    """Prints every change of a step's state until the workflow ends."""
    seen: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while True:
        view = api.get("hermes", f"/v1/workflows/{workflow_id}")
        for step in view["steps"]:
            if seen.get(step["id"]) != step["state"] and not as_json:
                click.echo(step_line(step).strip(), err=True)
            seen[step["id"]] = step["state"]
        if view["status"] in FINAL:
            return view
        if time.monotonic() > deadline:
            raise click.ClickException(f"workflow {workflow_id} is still {view['status']} after {timeout:.0f} s")
        time.sleep(0.5)


def _file_body(path: str) -> dict:
    try:
        body = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise click.BadParameter(f"{path}: {exc}") from None
    if not isinstance(body, dict) or not isinstance(body.get("steps"), list):
        raise click.BadParameter(f'{path}: expected a JSON object with "steps": [...]')
    return body


@workflow.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--kind", type=click.Choice(sorted(ENDPOINTS)), default="workflow", show_default=True,
              help="hybrid: the file also has local {...}; collaboration: each step's type is a skill.")  # fmt: skip
@click.option("--wait", "wait_", is_flag=True, help="Show each step's progress until the workflow ends.")
@click.option("--timeout", type=float, default=3600)
@click.option("--idempotency-key", help="Running again with the same key returns the same workflow.")
@api_command
def workflow_run(api, as_json, file, kind, wait_, timeout, idempotency_key):
    """Create a workflow from FILE; with --wait, follow it and exit 1 unless it completed."""
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    view = api.post("hermes", ENDPOINTS[kind], json=_file_body(file), headers=headers).json()
    if not wait_:
        return emit(view, as_json, workflow_text(view))
    if not as_json:
        click.echo(f"workflow {view['workflow_id']} created", err=True)
    view = workflow_follow(api, str(view["workflow_id"]), as_json=as_json, timeout=timeout)
    emit(view, as_json, workflow_text(view))
    if view["status"] != "COMPLETED":
        raise SystemExit(1)


@workflow.command("status")
@click.argument("workflow_id")
@click.option("--wait", "wait_", is_flag=True)
@click.option("--timeout", type=float, default=3600)
@api_command
def workflow_status(api, as_json, workflow_id, wait_, timeout):
    """A workflow's status and each step's job and state."""
    if wait_:
        view = workflow_follow(api, workflow_id, as_json=as_json, timeout=timeout)
    else:
        view = api.get("hermes", f"/v1/workflows/{workflow_id}")
    emit(view, as_json, workflow_text(view))


@workflow.command("list")
@click.option("--status")
@click.option("--limit", type=int, default=20, show_default=True)
@api_command
def workflow_list(api, as_json, status, limit):
    params = {k: v for k, v in {"status": status, "limit": limit}.items() if v}
    page = api.get("hermes", "/v1/workflows", params=params)
    emit(page, as_json, "\n".join(workflow_text(v) for v in page["items"]) or "no workflows")


@workflow.command("cancel")
@click.argument("workflow_id")
@api_command
def workflow_cancel(api, as_json, workflow_id):
    """Cancel the running steps' jobs (escrow released) and every step not yet started."""
    view = api.post("hermes", f"/v1/workflows/{workflow_id}/cancel").json()
    emit(view, as_json, workflow_text(view))
