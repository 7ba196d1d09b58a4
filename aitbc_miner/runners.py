"""Job runners, keyed by job type. Built in: echo, sleep, matmul. A pip package adds more through the
`aitbc.runners` entry point group (each entry point names a Runner subclass)."""

import time
from functools import lru_cache
from importlib.metadata import entry_points


class PayloadError(ValueError):
    """The payload cannot run: the job fails without a retry."""


class Runner:
    type: str = ""
    description: str = ""

    def validate(self, payload: dict) -> dict:
        """The payload with defaults filled in; PayloadError when it is wrong."""
        return payload

    def estimate_gpu_seconds(self, payload: dict) -> float:
        """How many GPU-seconds a job of this payload is expected to use (for the price check at matching)."""
        return 1.0

    def run(self, payload: dict, device: "Device") -> dict:
        raise NotImplementedError


class Device:
    """Where a job runs: a CUDA GPU (torch) or the CPU."""

    def __init__(self, kind: str, name: str, index: int | None = None):
        self.kind, self.name, self.index = kind, name, index

    @property
    def is_gpu(self) -> bool:
        return self.kind == "cuda"

    def __repr__(self):
        return f"Device({self.kind!r}, {self.name!r})"


def _int_field(payload: dict, name: str, default: int, low: int, high: int) -> int:
    value = payload.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise PayloadError(f"payload.{name} must be an integer from {low} to {high}")
    return value


class EchoRunner(Runner):
    type = "echo"
    description = "returns its payload"

    def run(self, payload, device):
        return {"echo": payload}


class SleepRunner(Runner):
    type = "sleep"
    description = "sleeps payload.seconds (0..3600)"

    def validate(self, payload):
        seconds = payload.get("seconds", 1)
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 3600:
            raise PayloadError("payload.seconds must be a number from 0 to 3600")
        return {**payload, "seconds": seconds}

    def estimate_gpu_seconds(self, payload):
        return float(payload.get("seconds", 1))

    def run(self, payload, device):
        time.sleep(payload["seconds"])
        return {"slept_seconds": payload["seconds"]}


MATMUL_DTYPES = ("float32", "float16", "bfloat16", "float64")
CPU_FLOPS_ESTIMATE = 20e9  # deliberately low: the estimate is an upper bound for the price check


class MatmulRunner(Runner):
    type = "matmul"
    description = "n x n matrix products, on the GPU with torch when there is one, else numpy; reports TFLOP/s"

    def validate(self, payload):
        n = _int_field(payload, "n", 1024, 1, 32768)
        repeat = _int_field(payload, "repeat", 1, 1, 10000)
        dtype = payload.get("dtype", "float32")
        if dtype not in MATMUL_DTYPES:
            raise PayloadError(f"payload.dtype must be one of {', '.join(MATMUL_DTYPES)}")
        return {**payload, "n": n, "repeat": repeat, "dtype": dtype}

    def estimate_gpu_seconds(self, payload):
        return 2.0 * payload["n"] ** 3 * payload["repeat"] / CPU_FLOPS_ESTIMATE + 0.5

    def run(self, payload, device):
        n, repeat, dtype = payload["n"], payload["repeat"], payload["dtype"]
        if device.is_gpu:
            seconds, checksum = _matmul_torch(n, repeat, dtype, device.index or 0)
        else:
            seconds, checksum = _matmul_numpy(n, repeat, dtype)
        flops = 2.0 * n**3 * repeat
        return {
            "n": n,
            "dtype": dtype,
            "repeat": repeat,
            "seconds": seconds,
            "tflops": flops / seconds / 1e12 if seconds > 0 else None,
            "device": device.name,
            "backend": "torch-cuda" if device.is_gpu else "numpy",
            "checksum": checksum,
        }


def _matmul_torch(n: int, repeat: int, dtype: str, index: int) -> tuple[float, float]:
    import torch

    device = torch.device("cuda", index)
    a = torch.randn(n, n, device=device, dtype=getattr(torch, dtype))
    b = torch.randn(n, n, device=device, dtype=getattr(torch, dtype))
    torch.matmul(a, b)  # warm-up: kernel selection is not part of the measurement
    torch.cuda.synchronize(device)
    started = time.perf_counter()
    for _ in range(repeat):
        c = torch.matmul(a, b)
    torch.cuda.synchronize(device)
    return time.perf_counter() - started, float(c.float().abs().mean().item())


def _matmul_numpy(n: int, repeat: int, dtype: str) -> tuple[float, float]:
    import numpy as np

    np_dtype = {"float32": np.float32, "float64": np.float64}.get(dtype, np.float32)  # no bf16/fp16 GEMM on CPU
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(np_dtype)
    b = rng.standard_normal((n, n)).astype(np_dtype)
    started = time.perf_counter()
    for _ in range(repeat):
        c = a @ b
    return time.perf_counter() - started, float(np.abs(c).mean())


BUILT_IN = (EchoRunner, SleepRunner, MatmulRunner)


@lru_cache(maxsize=1)
def runners() -> dict[str, Runner]:
    """Every runner this host knows: the built-in ones and those installed through `aitbc.runners`."""
    found = {cls.type: cls() for cls in BUILT_IN}
    for entry_point in entry_points(group="aitbc.runners"):
        cls = entry_point.load()
        found[cls.type or entry_point.name] = cls()
    return found


def runner_for(job_type: str) -> Runner | None:
    return runners().get(job_type)
