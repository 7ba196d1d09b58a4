"""A stand-in for the `pynvml` module that serves what NVML read on a real H100 80GB HBM3 (driver 580).

It raises pynvml's own exception classes and returns pynvml's own structures, so the code under test cannot tell it
from the module apart from the numbers, which come from /work/shared/fixtures/nvml/h100-80gb-hbm3.json.
"""

import json
from pathlib import Path

import pynvml

# a copy of ../shared/fixtures/nvml/h100-80gb-hbm3.json: real NVML readings of an H100, idle and loaded
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "h100-80gb-hbm3.json"


def h100() -> dict:
    """The recorded NVML readings of the H100: device0_static, driver versions, idle_samples and busy_samples."""
    return json.loads(FIXTURE.read_text())


class FakeHandle:
    def __init__(self, index: int):
        self.index = index


class FakeNvml:
    """FakeNvml(samples="busy", unsupported=("nvmlDeviceGetPowerUsage",)).at(2) serves the third busy sample.

    samples: "idle" or "busy", the fixture's sample set the live readings come from; `at(i)` picks the sample.
    unsupported: NVML calls that raise NVMLError_NotSupported, as an unsupported reading does on real hardware.
    errors: NVML call name -> pynvml error class that call raises (e.g. nvmlDeviceGetName: NVMLError_GpuIsLost).
    init_error: a pynvml error class nvmlInit raises (NVMLError_LibraryNotFound, NVMLError_DriverNotLoaded).
    device_count: how many GPUs NVML reports; each one is the fixture's device 0.
    as_bytes: return name, uuid and driver version as bytes, as nvidia-ml-py releases before 11.515 did.
    """

    NVMLError = pynvml.NVMLError
    NVML_TEMPERATURE_GPU = pynvml.NVML_TEMPERATURE_GPU

    def __init__(
        self,
        samples: str = "idle",
        *,
        unsupported: tuple[str, ...] = (),
        errors: dict[str, type[pynvml.NVMLError]] | None = None,
        init_error: type[pynvml.NVMLError] | None = None,
        device_count: int | None = None,
        as_bytes: bool = False,
    ):
        self.fixture = h100()
        self.samples = self.fixture[f"{samples}_samples"]
        self.sample = self.samples[0]
        self.errors = {name: pynvml.NVMLError_NotSupported for name in unsupported} | (errors or {})
        self.init_error = init_error
        self.device_count = self.fixture["device_count"] if device_count is None else device_count
        self.cuda_driver_version = self.fixture["cuda_driver_version"]
        self.as_bytes = as_bytes

    def at(self, index: int) -> "FakeNvml":
        """Serve the index-th sample of the chosen set from now on."""
        self.sample = self.samples[index]
        return self

    def _answer(self, call: str, value):
        if call in self.errors:
            raise self.errors[call]()
        return value

    def _text(self, call: str, value: str):
        return self._answer(call, value.encode() if self.as_bytes else value)

    def _handle(self, handle: FakeHandle) -> dict:
        if not isinstance(handle, FakeHandle) or not 0 <= handle.index < self.device_count:
            raise pynvml.NVMLError_InvalidArgument()
        return self.fixture["device0_static"]

    # the pynvml functions the miner calls

    def nvmlInit(self):
        if self.init_error is not None:
            raise self.init_error()
        return self._answer("nvmlInit", None)

    def nvmlShutdown(self):
        return self._answer("nvmlShutdown", None)

    def nvmlSystemGetDriverVersion(self):
        return self._text("nvmlSystemGetDriverVersion", self.fixture["driver_version"])

    def nvmlSystemGetCudaDriverVersion(self):
        return self._answer("nvmlSystemGetCudaDriverVersion", self.cuda_driver_version)

    def nvmlDeviceGetCount(self):
        return self._answer("nvmlDeviceGetCount", self.device_count)

    def nvmlDeviceGetHandleByIndex(self, index):
        handle = FakeHandle(index)
        self._handle(handle)
        return self._answer("nvmlDeviceGetHandleByIndex", handle)

    def nvmlDeviceGetName(self, handle):
        return self._text("nvmlDeviceGetName", self._handle(handle)["name"])

    def nvmlDeviceGetUUID(self, handle):
        return self._text("nvmlDeviceGetUUID", self._handle(handle)["uuid"])

    def nvmlDeviceGetCudaComputeCapability(self, handle):
        major, minor = self._handle(handle)["cuda_compute_capability"]
        return self._answer("nvmlDeviceGetCudaComputeCapability", (major, minor))

    def nvmlDeviceGetFanSpeed(self, handle):
        self._handle(handle)
        raise pynvml.NVMLError_NotSupported()  # the H100 SXM has no fan of its own: NVML said so

    def nvmlDeviceGetMemoryInfo(self, handle):
        self._handle(handle)
        return self._answer("nvmlDeviceGetMemoryInfo", pynvml.c_nvmlMemory_t(**self.sample["memory"]))

    def nvmlDeviceGetUtilizationRates(self, handle):
        self._handle(handle)
        return self._answer("nvmlDeviceGetUtilizationRates", pynvml.c_nvmlUtilization_t(**self.sample["utilization"]))

    def nvmlDeviceGetTemperature(self, handle, sensor):
        self._handle(handle)
        if sensor != pynvml.NVML_TEMPERATURE_GPU:
            raise pynvml.NVMLError_InvalidArgument()
        return self._answer("nvmlDeviceGetTemperature", self.sample["temperature_c"])

    def nvmlDeviceGetPowerUsage(self, handle):
        self._handle(handle)
        return self._answer("nvmlDeviceGetPowerUsage", self.sample["power_usage_mw"])
