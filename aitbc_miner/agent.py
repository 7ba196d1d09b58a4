"""A miner's connection to the platform: register, heartbeat (telemetry + lease renewal), claim, report.

Shared by both miner modes: the Celery GPU worker and the HTTP polling miner.
"""

import logging
import queue
import threading
import time
from contextlib import contextmanager

import httpx

from aitbc_client.http import Api, ApiError
from aitbc_miner import gpus
from aitbc_miner.edge import edge_replicas_install_quietly
from aitbc_miner.plugins import PluginInstall, plugin_installs
from aitbc_miner.runners import Device, runner_types

log = logging.getLogger("aitbc.miner")


def cpu_name() -> str:
    import platform

    return f"cpu ({platform.machine()})"


def devices_for(host: gpus.HostGpus, concurrency: int) -> list[Device]:
    """One device per slot: the GPUs round-robin when torch sees CUDA, else the CPU."""
    if host.has_gpu and _torch_cuda_available():
        return [Device("cuda", host.gpus[i % len(host.gpus)]["name"], i % len(host.gpus)) for i in range(concurrency)]
    return [Device("cpu", cpu_name()) for _ in range(concurrency)]


def _torch_cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


class MinerAgent:
    def __init__(
        self, api: Api, *, region: str, unit_price: str, concurrency: int, mode: str, name: str = "", nvml=None
    ):
        self.api, self.region, self.unit_price = api, region, unit_price
        self.concurrency, self.mode, self.name, self.nvml = concurrency, mode, name, nvml
        self.host = gpus.detect(nvml)
        self.miner_id: str | None = None
        self.queue_name: str | None = None
        self.broker_url: str | None = None  # this miner's own broker user (celery mode on Redis)
        self.on_broker_rotated = None  # called with the new URL when a registration replaces the one in use
        self.registered_runners: set[str] = set()
        self.heartbeat_interval = 10.0
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._devices: queue.Queue[Device] = queue.Queue()
        for device in devices_for(self.host, concurrency):
            self._devices.put(device)

    def capabilities(self) -> dict:
        return {
            "gpus": [{k: g[k] for k in ("name", "uuid", "memory_mb", "compute_capability")} for g in self.host.gpus],
            "cuda_version": self.host.cuda_version,
            "driver_version": self.host.driver_version,
            "models": [],
            "runners": runner_types(),
            "plugins": [install.report() for install in plugin_installs().values()],
        }

    def register(self) -> dict:
        body = {
            "region": self.region,
            "concurrency": self.concurrency,
            "capabilities": self.capabilities(),
            "unit_price": str(self.unit_price),
            "name": self.name,
            "mode": self.mode,
        }
        registered = self.api.post("gpu", "/v1/miners/register", json=body).json()
        self.miner_id, self.queue_name = registered["miner_id"], registered["queue"]
        previous, self.broker_url = self.broker_url, registered.get("broker_url")
        if previous and self.broker_url != previous and self.on_broker_rotated is not None:
            self.on_broker_rotated(self.broker_url)
        self.registered_runners = set(body["capabilities"]["runners"])
        self.heartbeat_interval = float(registered["heartbeat_interval_s"])
        for plugin in registered.get("plugins") or ():
            if plugin["status"] != "verified":
                name, version, detail = plugin["name"], plugin["version"], plugin["detail"]
                log.warning("runner plugin %s %s will not run here: %s", name, version, detail)
        return registered

    def capabilities_report(self) -> dict:
        """Sends the capabilities again (plugin sha256s recomputed); the platform re-checks the plugins."""
        body = {"capabilities": self.capabilities()}
        answer = self.api.put("gpu", f"/v1/miners/{self.miner_id}/capabilities", json=body)
        self.registered_runners = set(body["capabilities"]["runners"])
        return answer

    def plugin_check(self, plugin: PluginInstall) -> dict:
        """The registry's verdict on this install ({"status", "detail"}), recorded as this miner's install."""
        return self.api.post("plugin", "/v1/plugins/installs", json=plugin.report()).json()

    def running_jobs(self) -> list[str]:
        with self._lock:
            return sorted(self._running)

    def heartbeat(self) -> dict:
        body = {"inflight": len(self.running_jobs()), "gpus": gpus.readings(self.nvml), "job_ids": self.running_jobs()}
        try:
            return self.api.post("gpu", "/v1/miners/heartbeat", json=body).json()
        except ApiError as exc:
            if exc.status != 404:
                raise
            log.warning("the platform does not know this miner any more; registering again")
            self.register()
            return self.api.post("gpu", "/v1/miners/heartbeat", json=body).json()

    def heartbeats_start(self) -> threading.Thread:
        """Heartbeats in a thread of their own, which nothing stops but `stop()`: the leases of running jobs
        hang on them. Edge replica checks (calls to hermes that may be slow) run in a second thread."""

        def beat():
            while not self._stop.wait(self.heartbeat_interval):
                try:
                    self.heartbeat()
                except (ApiError, httpx.HTTPError) as exc:
                    log.warning("heartbeat failed: %s", exc)
                except Exception:
                    log.exception("heartbeat failed; trying again at the next beat")

        def edge():
            while not self._stop.wait(self.heartbeat_interval):
                edge_replicas_install_quietly(self)

        threading.Thread(target=edge, name="aitbc-edge-replicas", daemon=True).start()
        thread = threading.Thread(target=beat, name="aitbc-heartbeat", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @contextmanager
    def slot(self, job_id: str):
        """A device for one job, with the job's lease renewed by heartbeats while it runs."""
        device = self._devices.get()
        with self._lock:
            self._running.add(job_id)
        try:
            yield device
        finally:
            with self._lock:
                self._running.discard(job_id)
            self._devices.put(device)

    def claim(self, max_wait_seconds: float = 0) -> dict | None:
        response = self.api.post("gpu", "/v1/miners/poll", json={"max_wait_seconds": max_wait_seconds})
        return None if response.status_code == 204 else response.json()

    def report(self, path: str, body: dict, attempts: int = 5) -> dict | None:
        """Posts a result or a failure, retrying transport errors; None when the platform refused it."""
        for attempt in range(attempts):
            try:
                return self.api.post("gpu", path, json=body).json()
            except ApiError as exc:
                log.warning("the platform refused %s: %s", path, exc)
                return None
            except httpx.HTTPError as exc:
                log.warning("could not reach the platform (%s); retrying", exc)
                time.sleep(min(2**attempt, 10))
        return None
