"""Job runners, keyed by job type. Built in: echo, sleep, matmul, multimodal. A pip package adds more through
the `aitbc.runners` entry point group: each entry point's name is the job type, its value a Runner subclass
(see aitbc_miner.plugins for how a miner finds and verifies them before importing one)."""

import base64
import binascii
import hashlib
import logging
import re
import time
from collections import Counter
from functools import cache, lru_cache
from typing import cast

log = logging.getLogger("aitbc.miner")


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


MULTIMODAL_MAX_INPUTS = 16
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def _text_stats(text: str) -> dict:
    words = [w.casefold() for w in WORD.findall(text)]
    return {
        "characters": len(text),
        "words": len(words),
        "lines": len(text.splitlines()),
        "distinct_words": len(set(words)),
        "top_words": [[w, n] for w, n in Counter(words).most_common(5)],
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def _image_stats(data: bytes) -> dict:
    from aitbc_miner.images import image_read, pixel_stats

    image = image_read(data)
    pixels = image.pop("pixels")
    stats = {**image, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "pixels": None}
    if pixels is not None:
        stats["pixels"] = pixel_stats(pixels)
        if pixels.shape[-1] >= 3:
            rgb = pixels[:, :, :3].astype("float64")
            stats["pixels"]["luminance"] = round(float((rgb @ [0.299, 0.587, 0.114]).mean()), 4)
    return stats


class MultimodalRunner(Runner):
    type = "multimodal"
    description = (
        "payload.inputs: up to 16 of {type: text, text} and {type: image, data: base64 PNG/JPEG/GIF}; "
        "text statistics and decoded image statistics (PNG pixels); payload.repeat runs it again, for benchmarks"
    )

    def validate(self, payload):
        from aitbc_miner.images import ImageError, image_read

        inputs = payload.get("inputs")
        if not isinstance(inputs, list) or not 1 <= len(inputs) <= MULTIMODAL_MAX_INPUTS:
            raise PayloadError(f"payload.inputs must be a list of 1 to {MULTIMODAL_MAX_INPUTS} inputs")
        checked = []
        for i, item in enumerate(inputs):
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "text" and isinstance(item.get("text"), str):
                checked.append({"type": "text", "text": item["text"]})
                continue
            if kind != "image" or not isinstance(item.get("data"), str):
                raise PayloadError(f"payload.inputs[{i}] must be {{type: text, text}} or {{type: image, data}}")
            try:
                header = image_read(base64.b64decode(item["data"], validate=True), pixels=False)
            except (binascii.Error, ImageError, ValueError) as exc:
                raise PayloadError(f"payload.inputs[{i}].data is not a base64 PNG, JPEG or GIF: {exc}") from None
            checked.append({"type": "image", "data": item["data"], "pixels": header["width"] * header["height"]})
        repeat = _int_field(payload, "repeat", 1, 1, 50)
        return {"inputs": [{k: v for k, v in c.items() if k != "pixels"} for c in checked], "repeat": repeat,
                "work_bytes": sum(c.get("pixels", 0) * 4 + len(c.get("text", "")) for c in checked)}  # fmt: skip

    def estimate_gpu_seconds(self, payload):
        return 0.5 + payload["repeat"] * payload["work_bytes"] * 2e-6

    def run(self, payload, device):
        started = time.perf_counter()
        for _ in range(payload["repeat"]):
            outputs = [
                {"type": "text", **_text_stats(item["text"])}
                if item["type"] == "text"
                else {"type": "image", **_image_stats(base64.b64decode(item["data"]))}
                for item in payload["inputs"]
            ]
        images = [o for o in outputs if o["type"] == "image"]
        return {
            "outputs": outputs,
            "texts": len(outputs) - len(images),
            "images": len(images),
            "total_words": sum(o["words"] for o in outputs if o["type"] == "text"),
            "total_pixels": sum(o["width"] * o["height"] for o in images),
            "repeat": payload["repeat"],
            "seconds": time.perf_counter() - started,
        }


BUILT_IN = (EchoRunner, SleepRunner, MatmulRunner, MultimodalRunner)


def builtin_runner(job_type: str) -> Runner | None:
    """A runner that ships with AITBC (what the platform itself may validate payloads with)."""
    return _builtin().get(job_type)


@lru_cache(maxsize=1)
def _builtin() -> dict[str, Runner]:
    return {cls.type: cls() for cls in BUILT_IN}


@cache
def plugin_runner_load(job_type: str) -> Runner | None:
    """Imports the `aitbc.runners` entry point named `job_type` (a Runner subclass) and makes one.

    Importing runs the plugin's code: a miner verifies the plugin's sha256 first (aitbc_miner.plugins)."""
    from aitbc_miner.plugins import plugin_entry_points

    entry_point = plugin_entry_points().get(job_type)
    if entry_point is None:
        return None
    cls = entry_point.load()
    if not (isinstance(cls, type) and issubclass(cls, Runner)) or cls.type not in ("", job_type):
        raise TypeError(f"entry point {job_type} = {entry_point.value} is not a Runner of type {job_type!r}")
    runner = cls()
    runner.type = job_type
    return runner


def runner_types() -> list[str]:
    """Every job type this host can run, found without importing any plugin."""
    from aitbc_miner.plugins import plugin_entry_points

    return sorted({*_builtin(), *plugin_entry_points()})


def runners() -> dict[str, Runner]:
    """Every runner this host knows: the built-in ones and those installed through `aitbc.runners`
    (imported here; a plugin that fails to import is left out)."""
    found = dict(_builtin())
    for job_type in runner_types():
        if job_type not in found:
            try:
                # not built in, so runner_types() found it among the plugin entry points: there is one to load
                found[job_type] = cast(Runner, plugin_runner_load(job_type))
            except Exception as exc:  # a broken plugin must not take the built-in runners down with it
                log.warning("runner plugin %s does not load: %s", job_type, exc)
    return found


def runner_for(job_type: str) -> Runner | None:
    return builtin_runner(job_type) or plugin_runner_load(job_type)
