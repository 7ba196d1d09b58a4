"""Running one claimed job with its runner, measuring it, and reporting the outcome. Both miner modes use it."""

import logging
import threading
import time

import httpx

from aitbc_client.http import ApiError
from aitbc_miner import gpus
from aitbc_miner.agent import MinerAgent
from aitbc_miner.plugins import PluginInstall, plugin_install_now
from aitbc_miner.runners import PayloadError, builtin_runner, runner_for

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
    plugin = None
    if builtin_runner(job["type"]) is None:
        plugin = plugin_install_now(job["type"])
        if plugin is None:
            return _fail(agent, job_id, "unknown_type", f"this miner has no runner for {job['type']!r}", retryable=True)
        if (refused := _plugin_refusal(agent, job_id, plugin)) is not None:
            return refused
    try:
        runner = runner_for(job["type"])
        payload = runner.validate(dict(job["payload"]))
    except PayloadError as exc:
        return _fail(agent, job_id, "bad_payload", str(exc), retryable=False)
    except Exception as exc:  # a plugin that does not import is this miner's problem: another may run the job
        log.exception("runner for %s does not load", job["type"])
        return _fail(agent, job_id, "runner_error", f"{type(exc).__name__}: {exc}", retryable=True)
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
    if plugin is not None:
        metrics["plugin"] = {"name": plugin.name, "version": plugin.version, "sha256": plugin.sha256}
    answer = agent.report(f"/v1/miners/{job_id}/result", {"result": result, "metrics": metrics})
    log.info("job %s done in %.3f s: %s", job_id, seconds, answer)
    return answer


def _fail(agent: MinerAgent, job_id: str, code: str, message: str, *, retryable: bool) -> dict | None:
    body = {"error_code": code, "error_message": message, "retryable": retryable}
    return agent.report(f"/v1/miners/{job_id}/fail", body)


def _plugin_refusal(agent: MinerAgent, job_id: str, plugin: PluginInstall) -> dict | None:
    """Checks a plugin against the registry right before it runs. None: run it. Otherwise the job is failed
    (what the platform answered is returned) and the install is reported again, so matching drops it.

    The sha256 is recomputed from the files on disk, so a plugin edited after the miner registered is caught.
    """
    what = f"runner plugin {plugin.name} {plugin.version} ({plugin.distribution})"
    try:
        check = agent.plugin_check(plugin)
    except (ApiError, httpx.HTTPError) as exc:  # nobody vouches for it: not here; another miner may run the job
        return _fail(agent, job_id, "plugin_unverifiable", f"{what} could not be checked: {exc}", retryable=True)
    if check["status"] == "verified":
        return None
    log.warning("%s refused: %s", what, check["detail"])
    try:
        agent.capabilities_report()
    except (ApiError, httpx.HTTPError) as exc:
        log.warning("could not report capabilities: %s", exc)
    return _fail(agent, job_id, "plugin_unverified", f"{what} refused to run: {check['detail']}", retryable=False)
