"""`aitbc hermes ...`: agents and skill routing, offloading decisions, edge deployments."""

import time

import click

from aitbc_cli.client import api_command, emit, json_argument


@click.group()
def hermes():
    """Agents, skill routing, job offloading and edge deployments (the hermes service)."""


@hermes.group()
def agents():
    """Agents: skills (job types) your miner serves, at your price (a miner key)."""


def agent_line(a: dict) -> str:
    return (
        f"agent {a['agent_id']}  {a['name']}  skills={','.join(a['skills'])}  unit_price={a['unit_price']}  "
        f"region={a['region'] or '-'}  reliability={a['reliability']:.3f} "
        f"({a['jobs_completed']} completed, {a['jobs_failed']} failed)"
    )


@agents.command("create")
@click.option("--name", required=True)
@click.option("--skill", "skills", multiple=True, required=True, help="A job type it serves (repeatable).")
@click.option("--unit-price", required=True, help="AIT per GPU-second.")
@click.option("--region", default="")
@click.option("--miner-id", required=True, help="Your miner that serves it (aitbc miner status shows it).")
@api_command
def agent_create(api, as_json, name, skills, unit_price, region, miner_id):
    body = {"name": name, "skills": list(skills), "unit_price": unit_price, "region": region, "miner_id": miner_id}
    agent = api.post("hermes", "/v1/agents", json=body).json()
    emit(agent, as_json, agent_line(agent))


@agents.command("list")
@click.option("--skill")
@api_command
def agent_list(api, as_json, skill):
    page = api.get("hermes", "/v1/agents", params={"skill": skill} if skill else {})
    emit(page, as_json, "\n".join(agent_line(a) for a in page["items"]) or "no agents")


@agents.command("get")
@click.argument("agent_id")
@api_command
def agent_get(api, as_json, agent_id):
    agent = api.get("hermes", f"/v1/agents/{agent_id}")
    emit(agent, as_json, agent_line(agent))


@agents.command("update")
@click.argument("agent_id")
@click.option("--name")
@click.option("--skill", "skills", multiple=True, help="Replaces the skills (repeatable).")
@click.option("--unit-price")
@click.option("--region")
@click.option("--miner-id")
@api_command
def agent_update(api, as_json, agent_id, name, skills, unit_price, region, miner_id):
    body = {"name": name, "unit_price": unit_price, "region": region, "miner_id": miner_id}
    body = {k: v for k, v in body.items() if v is not None}
    if skills:
        body["skills"] = list(skills)
    agent = api.request("PATCH", "hermes", f"/v1/agents/{agent_id}", json=body).json()
    emit(agent, as_json, agent_line(agent))


@agents.command("delete")
@click.argument("agent_id")
@api_command
def agent_delete(api, as_json, agent_id):
    api.delete("hermes", f"/v1/agents/{agent_id}")
    emit({"agent_id": agent_id, "deleted": True}, as_json, f"agent {agent_id} deleted")


@hermes.command("route")
@click.argument("skill")
@click.option("--max-price", help="The most unit price (AIT per GPU-second) to accept.")
@click.option("--region", default="")
@click.option("--min-reliability", type=float, default=0.0)
@api_command
def route(api, as_json, skill, max_price, region, min_reliability):
    """The best agent for a skill, the alternatives, and why."""
    body = {"skill": skill, "region": region, "min_reliability": min_reliability}
    if max_price:
        body["max_price"] = max_price
    answer = api.post("hermes", "/v1/skills/route", json=body).json()
    lines = [f"best: {answer['name']} ({answer['agent_id']}) score {answer['score']:.3f}", f"  {answer['explanation']}"]
    lines += [f"then: {a['name']} score {a['score']:.3f}\n  {a['explanation']}" for a in answer["alternatives"]]
    lines += [f"excluded: {e['name']}: {e['reason']}" for e in answer["excluded"]]
    emit(answer, as_json, "\n".join(lines))


@hermes.command("skills")
@api_command
def skills(api, as_json):
    """Every skill agents offer, with prices and track record."""
    page = api.get("hermes", "/v1/ecosystem/skills")
    rows = [
        f"{s['skill']}: {s['agents']} agent(s), {s['agents_online']} online, from {s['min_unit_price']} AIT/GPU-s, "
        f"reliability {s['reliability']:.3f}"
        for s in page["items"]
    ]
    emit(page, as_json, "\n".join(rows) or "no skills on offer")


@hermes.command("offload")
@click.option("--type", "job_type", required=True)
@click.option("--payload", default="{}")
@click.option("--max-price", required=True)
@click.option("--gpu-model", default="", help="Your local GPU.")
@click.option("--queue-depth", type=int, default=0, help="Jobs waiting on your local GPU.")
@click.option("--local-unit-price", default="0", help="What you count a GPU-second of your own GPU at.")
@click.option("--prefer", type=click.Choice(["time", "cost"]), default="time")
@api_command
def offload(api, as_json, job_type, payload, max_price, gpu_model, queue_depth, local_unit_price, prefer):
    """Run a job locally or on the marketplace? Estimated cost and wait of each, from job history."""
    body = {
        "type": job_type,
        "payload": json_argument(payload, "--payload"),
        "max_price": max_price,
        "local": {"gpu_model": gpu_model, "queue_depth": queue_depth, "unit_price": local_unit_price},
        "prefer": prefer,
    }
    answer = api.post("hermes", "/v1/offload/decide", json=body).json()
    emit(answer, as_json, f"{answer['decision']}: {answer['reason']}")


@hermes.group()
def deployments():
    """Edge deployments of a runner on edge miners (a client key)."""


def deployment_lines(d: dict) -> str:
    lines = [f"deployment {d['deployment_id']}  runner={d['runner']}  {d['status']}  replicas={d['replicas']}"]
    if d.get("status_reason"):
        lines.append(f"  {d['status_reason']}")
    lines += [
        f"  replica {r['replica_id']} on miner {r['miner_id']} ({r['gpu_model']}): {r['state']}"
        + (f" - {r['reason']}" if r["reason"] else "")
        + (f" [{r['runner_version']}]" if r["runner_version"] else "")
        for r in d["replica_states"]
    ]
    return "\n".join(lines)


@deployments.command("create")
@click.argument("runner")
@click.option("--replicas", type=int, default=1, show_default=True)
@click.option("--category", "categories", multiple=True, help="edge, consumer or datacenter (default: edge, consumer).")
@click.option("--region")
@click.option("--gpu-model")
@click.option("--max-tdp-w", type=int)
@click.option("--wait", "wait_", is_flag=True, help="Wait until every replica reported.")
@click.option("--timeout", type=float, default=120)
@api_command
def deployment_create(api, as_json, runner, replicas, categories, region, gpu_model, max_tdp_w, wait_, timeout):
    constraints = {"region": region, "gpu_model": gpu_model, "max_tdp_w": max_tdp_w}
    constraints = {k: v for k, v in constraints.items() if v is not None}
    if categories:
        constraints["categories"] = list(categories)
    body = {"runner": runner, "replicas": replicas, "constraints": constraints}
    deployment = api.post("hermes", "/v1/edge/deployments", json=body).json()
    deadline = time.monotonic() + timeout
    while wait_ and deployment["status"] == "PENDING" and time.monotonic() < deadline:
        time.sleep(1)
        deployment = api.get("hermes", f"/v1/edge/deployments/{deployment['deployment_id']}")
    emit(deployment, as_json, deployment_lines(deployment))


@deployments.command("list")
@api_command
def deployment_list(api, as_json):
    page = api.get("hermes", "/v1/edge/deployments")
    emit(page, as_json, "\n".join(deployment_lines(d) for d in page["items"]) or "no deployments")


@deployments.command("status")
@click.argument("deployment_id")
@api_command
def deployment_status(api, as_json, deployment_id):
    deployment = api.get("hermes", f"/v1/edge/deployments/{deployment_id}")
    emit(deployment, as_json, deployment_lines(deployment))


@deployments.command("scale")
@click.argument("deployment_id")
@click.argument("replicas", type=int)
@api_command
def deployment_scale(api, as_json, deployment_id, replicas):
    path = f"/v1/edge/deployments/{deployment_id}/scale"
    deployment = api.post("hermes", path, json={"replicas": replicas}).json()
    emit(deployment, as_json, deployment_lines(deployment))


@deployments.command("stop")
@click.argument("deployment_id")
@api_command
def deployment_stop(api, as_json, deployment_id):
    api.delete("hermes", f"/v1/edge/deployments/{deployment_id}")
    emit({"deployment_id": deployment_id, "stopped": True}, as_json, f"deployment {deployment_id} stopped")
