"""The GPU side of a miner on a real GPU: NVML detection and telemetry, and the matmul runner on CUDA.

Runs without Django or a database (only aitbc_miner, torch, numpy and nvidia-ml-py), so it can run on a
GPU host as it is:  python bench/gpu_check.py [--out FILE]
It prints what the miner would register, live readings, and matmul TFLOP/s per dtype, each run through
the same runner and telemetry code a job uses.
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aitbc_miner import gpus  # noqa: E402
from aitbc_miner.agent import MinerAgent  # noqa: E402
from aitbc_miner.executor import Telemetry, job_execute  # noqa: E402
from aitbc_miner.runners import Device, runner_for  # noqa: E402

CPU_CASES = [{"n": 256, "dtype": "float32", "repeat": 3}]
GPU_CASES = [
    {"n": 8192, "dtype": "bfloat16", "repeat": 20},
    {"n": 8192, "dtype": "float16", "repeat": 20},
    {"n": 8192, "dtype": "float32", "repeat": 10},
    {"n": 1024, "dtype": "bfloat16", "repeat": 2000},
]


class RecordingApi:
    """Stands in for the platform: records what the miner reports."""

    def __init__(self):
        self.posted = []

    def post(self, service, path, json=None, **kwargs):
        self.posted.append({"path": path, "body": json})

        class Answer:
            status_code = 200

            @staticmethod
            def json():
                return {"job_id": "local", "state": "COMPLETED"}

        return Answer()


def job_through_the_miner(payload: dict) -> dict:
    """One job through the same executor both miner modes use (device choice, runner, NVML telemetry)."""
    api = RecordingApi()
    agent = MinerAgent(api, region="", unit_price="0.01", concurrency=1, mode="poll")
    job_execute(agent, {"job_id": "local", "type": "matmul", "payload": payload})
    return api.posted[-1]["body"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    args = parser.parse_args()
    host = gpus.detect()
    report = {"python": platform.python_version(), "host": host.__dict__, "describe": host.describe()}
    report["readings_idle"] = gpus.readings()
    print(host.describe())
    try:
        import torch

        report["torch"] = {
            "version": torch.__version__,
            "cuda": torch.version.cuda,
            "available": torch.cuda.is_available(),
        }
    except ImportError:
        report["torch"] = None
    on_gpu = bool(host.has_gpu and report["torch"] and report["torch"]["available"])
    runner = runner_for("matmul")
    device = Device("cuda", host.gpus[0]["name"], 0) if on_gpu else Device("cpu", "cpu")
    report["matmul"] = []
    for case in GPU_CASES if on_gpu else CPU_CASES:
        payload = runner.validate(dict(case))
        started = time.perf_counter()
        with Telemetry() as telemetry:
            result = runner.run(payload, device)
        wall = time.perf_counter() - started
        row = {**result, "wall_s": round(wall, 3), "nvml": gpus.summarize(telemetry.samples)}
        report["matmul"].append(row)
        util = next(iter(row["nvml"].values()), {}) if row["nvml"] else {}
        print(
            f"matmul n={case['n']} {case['dtype']} x{case['repeat']}: {result['tflops']:.1f} TFLOP/s on "
            f"{result['device']} ({result['backend']}), wall {wall:.2f} s, "
            f"util mean {util.get('utilization_gpu_mean')}%, power mean {util.get('power_w_mean')} W, "
            f"temp max {util.get('temperature_c_max')} C"
        )
    report["job"] = job_through_the_miner((GPU_CASES if on_gpu else CPU_CASES)[0])
    print(f"a matmul job through the miner's executor reported: {json.dumps(report['job']['metrics'], default=str)}")
    report["readings_after"] = gpus.readings()
    text = json.dumps(report, indent=2, default=str)
    if args.out:
        Path(args.out).write_text(text)
    print(json.dumps(report["host"], default=str))


if __name__ == "__main__":
    main()
