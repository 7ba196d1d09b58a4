"""`aitbc miner run`: the HTTP polling miner. Long-polls for jobs, runs up to `concurrency` at once."""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from aitbc_client.http import ApiError
from aitbc_miner.agent import MinerAgent
from aitbc_miner.executor import job_execute

log = logging.getLogger("aitbc.miner")
LONG_POLL_S = 25


def polling_run(agent: MinerAgent) -> None:
    slots = threading.BoundedSemaphore(agent.concurrency)
    backoff = 1.0

    def execute(job):
        try:
            job_execute(agent, job)
        finally:
            slots.release()

    with ThreadPoolExecutor(max_workers=agent.concurrency, thread_name_prefix="aitbc-job") as pool:
        while not agent.stopping:
            slots.acquire()
            try:
                job = agent.claim(max_wait_seconds=LONG_POLL_S)
            except (ApiError, httpx.HTTPError) as exc:
                slots.release()
                log.warning("poll failed (%s); retrying in %.0f s", exc, backoff)
                time.sleep(backoff)
                backoff = min(backoff * 2, 30)
                continue
            backoff = 1.0
            if job is None:
                slots.release()
                continue
            pool.submit(execute, job)
