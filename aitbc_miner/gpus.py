"""GPU detection and telemetry through NVML (nvidia-ml-py). Without a GPU or a driver: the CPU, said so."""

import logging
import os
import platform
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


def _nvml_module():
    import pynvml

    return pynvml


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class HostGpus:
    gpus: list[dict] = field(default_factory=list)
    driver_version: str = ""
    cuda_version: str = ""
    reason: str = ""  # why there is no GPU, when there is none

    @property
    def has_gpu(self) -> bool:
        return bool(self.gpus)

    def describe(self) -> str:
        if not self.gpus:
            return f"no GPU ({self.reason}); jobs run on the CPU ({platform.processor() or platform.machine()})"
        names = ", ".join(f"{g['name']} ({g['memory_mb']} MiB)" for g in self.gpus)
        return f"{len(self.gpus)} GPU(s): {names}; driver {self.driver_version}, CUDA {self.cuda_version}"


def _optional(nvml, read, default=None):
    """A reading the device may not support (NVMLError_NotSupported and friends give `default`)."""
    try:
        return read()
    except nvml.NVMLError:
        return default


def visible(index: int, uuid: str) -> bool:
    """Whether CUDA_VISIBLE_DEVICES (indexes or UUIDs, as CUDA reads it) leaves this GPU to this miner, so that
    several miners on one host each register and report their own GPUs (a GPU belongs to one miner)."""
    chosen = os.environ.get("CUDA_VISIBLE_DEVICES")
    if chosen is None:
        return True
    return any(c == str(index) or (len(c) > 3 and uuid.startswith(c)) for c in (c.strip() for c in chosen.split(",")))


def detect(nvml=None) -> HostGpus:
    """Every GPU NVML sees and CUDA_VISIBLE_DEVICES leaves visible, with name, uuid, memory and compute
    capability."""
    try:
        nvml = nvml or _nvml_module()
        nvml.nvmlInit()
    except Exception as exc:  # no library, no driver, no device: the CPU it is
        return HostGpus(reason=f"NVML unavailable: {exc}")
    try:
        count = nvml.nvmlDeviceGetCount()
        driver = _optional(nvml, lambda: _text(nvml.nvmlSystemGetDriverVersion()), "")
        cuda = _optional(nvml, nvml.nvmlSystemGetCudaDriverVersion, 0)
        host = HostGpus(driver_version=driver, cuda_version=f"{cuda // 1000}.{cuda % 1000 // 10}" if cuda else "")
        for index in range(count):
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            if not visible(index, _text(nvml.nvmlDeviceGetUUID(handle))):
                continue
            capability = _optional(nvml, lambda h=handle: nvml.nvmlDeviceGetCudaComputeCapability(h), None)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            host.gpus.append(
                {
                    "index": index,
                    "name": _text(nvml.nvmlDeviceGetName(handle)),
                    "uuid": _text(nvml.nvmlDeviceGetUUID(handle)),
                    "memory_mb": int(memory.total // (1024 * 1024)),
                    "compute_capability": f"{capability[0]}.{capability[1]}" if capability else "",
                }
            )
        if not host.gpus:
            host.reason = "NVML found no device"
        return host
    except nvml.NVMLError as exc:
        log.warning("NVML failed while listing GPUs: %s", exc)
        return HostGpus(reason=f"NVML error: {exc}")


def readings(nvml=None) -> list[dict]:
    """Live telemetry of every GPU; a reading the device does not support is None."""
    try:
        nvml = nvml or _nvml_module()
        nvml.nvmlInit()
        count = nvml.nvmlDeviceGetCount()
    except Exception:
        return []
    samples = []
    for index in range(count):
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(index)
            uuid = _text(nvml.nvmlDeviceGetUUID(handle))
        except nvml.NVMLError:
            continue
        if not visible(index, uuid):
            continue
        utilization = _optional(nvml, lambda h=handle: nvml.nvmlDeviceGetUtilizationRates(h))
        memory = _optional(nvml, lambda h=handle: nvml.nvmlDeviceGetMemoryInfo(h))
        temperature = _optional(nvml, lambda h=handle: nvml.nvmlDeviceGetTemperature(h, nvml.NVML_TEMPERATURE_GPU))
        power_mw = _optional(nvml, lambda h=handle: nvml.nvmlDeviceGetPowerUsage(h))
        samples.append(
            {
                "uuid": uuid,
                "utilization_gpu": float(utilization.gpu) if utilization is not None else None,
                "memory_used_mb": round(memory.used / (1024 * 1024), 1) if memory is not None else None,
                "temperature_c": float(temperature) if temperature is not None else None,
                "power_w": round(power_mw / 1000, 1) if power_mw is not None else None,
            }
        )
    return samples


def summarize(samples: list[list[dict]]) -> dict:
    """Telemetry over a job's run: mean utilisation and power, peak memory and temperature, per GPU."""
    by_gpu: dict[str, list[dict]] = {}
    for batch in samples:
        for reading in batch:
            by_gpu.setdefault(reading["uuid"], []).append(reading)

    def values(rows, key):
        return [r[key] for r in rows if r.get(key) is not None]

    summary = {}
    for uuid, rows in by_gpu.items():
        util, power = values(rows, "utilization_gpu"), values(rows, "power_w")
        memory, temperature = values(rows, "memory_used_mb"), values(rows, "temperature_c")
        summary[uuid] = {
            "samples": len(rows),
            "utilization_gpu_mean": round(sum(util) / len(util), 1) if util else None,
            "power_w_mean": round(sum(power) / len(power), 1) if power else None,
            "memory_used_mb_max": max(memory) if memory else None,
            "temperature_c_max": max(temperature) if temperature else None,
        }
    return summary
