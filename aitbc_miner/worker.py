"""`aitbc miner worker`: a Celery worker on a GPU host, consuming its miner's own queue.

The platform wakes it with `gpu.execute_next` messages; the task claims over HTTP (the one claim the
polling miner uses too), runs the job and reports. On Redis it connects as the miner's own broker user, whose
URL the registration answers: that user reaches this miner's queue and nothing else, so the host never holds
the control plane's broker credentials, let alone a database's. It takes no remote control (no pidbox) and
sends Celery events, which Flower shows. With no broker URL from the platform (the embedded filesystem
broker) it uses this host's local broker: one trusted host only.
"""

import logging
import os
import signal
from pathlib import Path

import environ
from celery import Celery
from celery.signals import worker_ready

from aitbc_miner.agent import MinerAgent
from aitbc_miner.executor import job_execute
from aitbc_site.config import broker_settings
from aitbc_site.queues import gpu_queue_transport_options

log = logging.getLogger("aitbc.miner")

app = Celery("aitbc-gpu")
_agent: MinerAgent | None = None


def configure(home: Path, agent: MinerAgent) -> None:
    if agent.broker_url:
        broker_url, options = agent.broker_url, gpu_queue_transport_options(agent.miner_id)
    else:
        local = broker_settings(environ.Env(), home)
        broker_url, options = local["broker_url"], local["broker_transport_options"]
    app.conf.update(
        broker_url=broker_url,
        broker_transport_options=options,
        broker_connection_retry_on_startup=True,
        worker_enable_remote_control=False,  # no pidbox: its channel is the control plane's
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_send_task_events=True,
        worker_hijack_root_logger=False,
        task_serializer="json",
        accept_content=["json"],
    )


@app.task(name="gpu.execute_next", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def execute_next(job_id: str | None = None) -> list[str]:
    """Claims and runs jobs for this miner until none is left (the one woken here comes first).

    A wake-up drains the backlog, so a busy miner needs no further messages. Idempotent: a second
    delivery finds nothing to claim and returns.
    """
    ran = []
    while (job := _agent.claim(max_wait_seconds=0)) is not None:
        job_execute(_agent, job)
        ran.append(job["job_id"])
    return ran


@worker_ready.connect
def _drain_on_start(sender=None, **kwargs):
    """Jobs that were woken for this miner before it started are claimed now rather than at the next sweep."""
    for _ in range(_agent.concurrency):
        app.send_task("gpu.execute_next", queue=_agent.queue_name)


def _stop_on_rotation(new_url: str) -> None:
    """Registering again replaced this worker's broker user, whose connections the broker has closed: the worker
    stops (its jobs' leases run out and they go to other miners) for its supervisor to start it afresh."""
    log.error("this miner registered again elsewhere and its broker user was replaced: stopping this worker")
    os.kill(os.getpid(), signal.SIGTERM)


def gpu_worker_run(agent: MinerAgent, *, loglevel: str = "INFO") -> None:
    global _agent
    _agent = agent
    agent.on_broker_rotated = _stop_on_rotation
    configure(Path(os.environ.get("AITBC_HOME", "var")).resolve(), agent)
    argv = ["worker", "-P", "threads", "-c", str(agent.concurrency), "-Q", agent.queue_name]
    argv += ["-n", f"gpu-{agent.miner_id}@%h", "-E", "--without-mingle", "--without-gossip", "-l", loglevel]
    app.worker_main(argv)
