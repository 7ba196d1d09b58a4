"""`aitbc miner ...`: run a miner (Celery GPU worker or HTTP polling miner) and look after it (a miner key)."""

import logging

import click

from aitbc_cli.client import api_command, emit
from aitbc_client.http import Api


@click.group()
def miner():
    """Sell GPU time: run a miner, see its status and earnings."""


def miner_options(func):
    func = click.option("--region", default="", help="Where this host is (jobs may require a region).")(func)
    func = click.option("--unit-price", default="0.02", show_default=True, help="AIT per GPU-second.")(func)
    func = click.option("--concurrency", type=int, default=1, show_default=True, help="Jobs at once.")(func)
    func = click.option("--name", default="", help="A name for this host.")(func)
    return func


def _agent(api: Api, mode: str, region, unit_price, concurrency, name):
    from aitbc_miner.agent import MinerAgent

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    agent = MinerAgent(api, region=region, unit_price=unit_price, concurrency=concurrency, mode=mode, name=name)
    registered = agent.register()
    click.echo(f"miner {registered['miner_id']} registered ({mode}); {agent.host.describe()}", err=True)
    return agent


@miner.command("worker")
@miner_options
@api_command
def miner_worker(api, as_json, region, unit_price, concurrency, name):
    """A Celery worker for a GPU host: detects GPUs, registers, heartbeats, runs the jobs sent to its queue."""
    from aitbc_miner.worker import gpu_worker_run

    agent = _agent(api, "celery", region, unit_price, concurrency, name)
    agent.heartbeats_start()
    click.echo(f"consuming {agent.queue_name}", err=True)
    gpu_worker_run(agent)


@miner.command("run")
@miner_options
@api_command
def miner_run(api, as_json, region, unit_price, concurrency, name):
    """An HTTP polling miner: detects GPUs, registers, heartbeats, long-polls for jobs and runs them."""
    from aitbc_miner.poller import polling_run

    agent = _agent(api, "poll", region, unit_price, concurrency, name)
    agent.heartbeats_start()
    try:
        polling_run(agent)
    except KeyboardInterrupt:
        agent.stop()


@miner.command("register")
@miner_options
@click.option("--mode", type=click.Choice(["poll", "celery"]), default="poll")
@api_command
def miner_register(api, as_json, region, unit_price, concurrency, name, mode):
    """Register (or update) this key's miner with this host's GPUs, without running it."""
    from aitbc_miner.agent import MinerAgent

    agent = MinerAgent(api, region=region, unit_price=unit_price, concurrency=concurrency, mode=mode, name=name)
    registered = agent.register()
    emit(
        {**registered, "host": agent.host.describe()},
        as_json,
        f"miner {registered['miner_id']}: {agent.host.describe()}",
    )


@miner.command("status")
@api_command
def miner_status(api, as_json):
    """This key's miner: online, GPUs, counters."""
    view = api.get("gpu", "/v1/miners/me")
    gpus = api.get("gpu", f"/v1/miners/{view['miner_id']}/gpus")["items"]
    text = (
        f"miner {view['miner_id']} {view['status']} ({'online' if view['online'] else 'not heard from'}), "
        f"mode {view['mode']}, region {view['region'] or '-'}, {view['unit_price']} AIT/GPU-s, "
        f"completed {view['jobs_completed']}, failed {view['jobs_failed']}"
    )
    text += "".join(f"\n  {g['model']} {g['memory_mb']} MiB {g['status']} util={g['utilization_gpu']}" for g in gpus)
    emit({**view, "gpus": gpus}, as_json, text)


@miner.command("earnings")
@api_command
def miner_earnings(api, as_json):
    """What this miner has been paid, from the ledger."""
    view = api.get("gpu", "/v1/miners/me")
    earnings = api.get("gpu", f"/v1/miners/{view['miner_id']}/earnings")
    emit(earnings, as_json, f"{earnings['total_earned']} AIT for {earnings['jobs_completed']} jobs")


@miner.command("deregister")
@api_command
def miner_deregister(api, as_json):
    """Take this key's miner offline; its running jobs go back to the queue."""
    view = api.get("gpu", "/v1/miners/me")
    api.delete("gpu", f"/v1/miners/{view['miner_id']}")
    emit({"miner_id": view["miner_id"], "status": "OFFLINE"}, as_json, f"miner {view['miner_id']} deregistered")
