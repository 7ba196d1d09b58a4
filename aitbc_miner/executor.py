"""Running one claimed job with its runner, measuring it, and reporting the outcome. Both miner modes use it."""

import logging
import threading
import time

from aitbc_miner import gpus
from aitbc_miner.agent import MinerAgent
from aitbc_miner.runners import PayloadError, runner_for

log = logging.getLogger("aitbc.miner")
TELEMETRY_INTERVAL_S = 0.5


class Telemetry:
    """Samples NVML while a job runs on a GPU."""

    def __init__(self, nvml=None):
        self.nvml, self.samples = nvml, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="aitbc-telemetry", daemon=True)

    def _run(self):
        while True:
            self.samples.append(gpus.readings(self.nvml))
            if self._stop.wait(TELEMETRY_INTERVAL_S):
                return

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(2)
        self.samples.append(gpus.readings(self.nvml))


def job_execute(agent: MinerAgent, job: dict) -> dict | None:
    """Runs a claimed job and reports its result or failure; returns what the platform answered."""
    job_id = job["job_id"]
    runner = runner_for(job["type"])
    if runner is None:
        return _fail(agent, job_id, "unknown_type", f"this miner has no runner for {job['type']!r}", retryable=True)
    try:
        payload = runner.validate(dict(job["payload"]))
    except PayloadError as exc:
        return _fail(agent, job_id, "bad_payload", str(exc), retryable=False)
    with agent.slot(job_id) as device:
        log.info("job %s (%s) starting on %s", job_id, job["type"], device.name)
        started = time.perf_counter()
        try:
            if device.is_gpu:
                with Telemetry(agent.nvml) as telemetry:
                    result = runner.run(payload, device)
                nvml = gpus.summarize(telemetry.samples)
            else:
                result, nvml = runner.run(payload, device), None
        except Exception as exc:  # a runner failure is the job's, not the miner's
            log.exception("job %s failed", job_id)
            return _fail(agent, job_id, "runner_error", f"{type(exc).__name__}: {exc}", retryable=True)
        seconds = time.perf_counter() - started
    metrics = {
        "gpu_seconds": round(seconds, 6),
        "duration_ms": round(seconds * 1000, 3),
        "device": device.name,
        "device_kind": device.kind,
        "nvml": nvml,
    }
    answer = agent.report(f"/v1/miners/{job_id}/result", {"result": result, "metrics": metrics})
    log.info("job %s done in %.3f s: %s", job_id, seconds, answer)
    return answer


def _fail(agent: MinerAgent, job_id: str, code: str, message: str, *, retryable: bool) -> dict | None:
    body = {"error_code": code, "error_message": message, "retryable": retryable}
    return agent.report(f"/v1/miners/{job_id}/fail", body)
