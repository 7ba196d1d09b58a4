import statistics

import pynvml
import pytest

from aitbc_miner.gpus import detect, readings, summarize
from tests.miner.fake_nvml import FakeNvml, h100

MIB = 2**20
TENTH = 0.051  # a figure rounded to one decimal is within half a tenth (and a float's breadth) of the exact one
H100 = h100()
UUID = H100["device0_static"]["uuid"]


def expected_reading(sample: dict) -> dict:
    """What a reading of one fixture sample should say, in the units the miner reports (MiB, W, °C)."""
    return {
        "uuid": UUID,
        "utilization_gpu": sample["utilization"]["gpu"],
        "memory_used_mb": pytest.approx(sample["memory"]["used"] / MIB, abs=TENTH),
        "temperature_c": sample["temperature_c"],
        "power_w": pytest.approx(sample["power_usage_mw"] / 1000, abs=TENTH),
    }


def readings_of(samples: str) -> list[list[dict]]:
    """One readings() call per recorded sample of the set, as the miner's telemetry thread takes them."""
    nvml = FakeNvml(samples)
    return [readings(nvml.at(index)) for index in range(len(nvml.samples))]


def test_given_the_h100_when_detected_then_its_name_uuid_memory_and_compute_capability_are_listed():
    host = detect(FakeNvml())
    assert host.has_gpu
    assert host.reason == ""
    assert host.gpus == [
        {
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "uuid": "GPU-eccbd7a6-2b52-e314-e970-e428a6e52776",
            "memory_mb": 85520809984 // MIB,
            "compute_capability": "9.0",
        }
    ]


def test_given_the_h100_when_detected_then_driver_and_cuda_versions_are_text():
    host = detect(FakeNvml())
    assert (host.driver_version, host.cuda_version) == ("580.159.04", "13.0")


@pytest.mark.parametrize(("cuda_driver_version", "cuda_version"), [(13000, "13.0"), (12040, "12.4"), (12080, "12.8")])
def test_given_a_cuda_driver_version_number_when_detected_then_it_reads_as_major_dot_minor(
    cuda_driver_version, cuda_version
):
    nvml = FakeNvml()
    nvml.cuda_driver_version = cuda_driver_version
    assert detect(nvml).cuda_version == cuda_version


def test_given_the_h100_when_described_then_the_gpu_its_memory_and_the_versions_are_named():
    description = detect(FakeNvml()).describe()
    assert "1 GPU(s)" in description
    assert f"NVIDIA H100 80GB HBM3 ({85520809984 // MIB} MiB)" in description
    assert "driver 580.159.04" in description
    assert "CUDA 13.0" in description


def test_given_an_old_nvidia_ml_py_that_returns_bytes_when_detected_then_names_are_still_text():
    host = detect(FakeNvml(as_bytes=True))
    assert host.gpus[0]["name"] == "NVIDIA H100 80GB HBM3"
    assert host.gpus[0]["uuid"] == UUID
    assert host.driver_version == "580.159.04"
    assert readings(FakeNvml(as_bytes=True))[0]["uuid"] == UUID


def test_given_no_compute_capability_reading_when_detected_then_the_gpu_is_still_listed_without_one():
    host = detect(FakeNvml(unsupported=("nvmlDeviceGetCudaComputeCapability",)))
    assert host.has_gpu
    assert host.gpus[0]["name"] == "NVIDIA H100 80GB HBM3"
    assert host.gpus[0]["compute_capability"] == ""


def test_given_no_driver_version_readings_when_detected_then_the_gpu_is_listed_with_blank_versions():
    host = detect(FakeNvml(unsupported=("nvmlSystemGetDriverVersion", "nvmlSystemGetCudaDriverVersion")))
    assert host.has_gpu
    assert (host.driver_version, host.cuda_version) == ("", "")


def test_given_a_busy_h100_when_read_then_each_reading_matches_its_recorded_sample():
    busy = H100["busy_samples"]
    assert readings_of("busy") == [[expected_reading(sample)] for sample in busy]


def test_given_the_peak_busy_sample_when_read_then_power_is_in_watts_and_memory_in_mib():
    [reading] = readings(FakeNvml("busy").at(2))
    assert reading["power_w"] == 219.5  # 219489 mW
    assert reading["memory_used_mb"] == 2258.8  # 2368536576 B
    assert reading["temperature_c"] == 41
    assert reading["utilization_gpu"] == 0


@pytest.mark.parametrize(
    ("call", "key"),
    [
        ("nvmlDeviceGetPowerUsage", "power_w"),
        ("nvmlDeviceGetTemperature", "temperature_c"),
        ("nvmlDeviceGetUtilizationRates", "utilization_gpu"),
        ("nvmlDeviceGetMemoryInfo", "memory_used_mb"),
    ],
)
def test_given_a_reading_the_gpu_does_not_support_when_read_then_it_is_none_and_the_rest_are_read(call, key):
    sample = H100["busy_samples"][1]
    assert readings(FakeNvml("busy", unsupported=(call,)).at(1)) == [{**expected_reading(sample), key: None}]


@pytest.mark.parametrize(
    "call", ["nvmlDeviceGetPowerUsage", "nvmlDeviceGetTemperature", "nvmlDeviceGetUtilizationRates"]
)
def test_given_a_reading_the_gpu_does_not_support_when_detected_then_the_gpu_is_still_listed(call):
    assert detect(FakeNvml(unsupported=(call,))).gpus == detect(FakeNvml()).gpus


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (pynvml.NVMLError_LibraryNotFound, "NVML Shared Library Not Found"),
        (pynvml.NVMLError_DriverNotLoaded, "Driver Not Loaded"),
    ],
)
def test_given_no_nvml_library_or_driver_when_detected_then_there_is_no_gpu_and_the_reason_says_why(error, message):
    host = detect(FakeNvml(init_error=error))
    assert not host.has_gpu
    assert host.gpus == []
    assert message in host.reason


@pytest.mark.parametrize("error", [pynvml.NVMLError_LibraryNotFound, pynvml.NVMLError_DriverNotLoaded])
def test_given_no_nvml_library_or_driver_when_described_then_jobs_run_on_the_cpu(error):
    description = detect(FakeNvml(init_error=error)).describe()
    assert description.startswith("no GPU (NVML unavailable: ")
    assert "jobs run on the CPU" in description


@pytest.mark.parametrize("error", [pynvml.NVMLError_LibraryNotFound, pynvml.NVMLError_DriverNotLoaded])
def test_given_no_nvml_library_or_driver_when_read_then_there_are_no_readings(error):
    assert readings(FakeNvml(init_error=error)) == []


def test_given_nvml_sees_no_device_when_detected_then_the_reason_says_so_and_jobs_run_on_the_cpu():
    host = detect(FakeNvml(device_count=0))
    assert not host.has_gpu
    assert host.reason == "NVML found no device"
    assert "jobs run on the CPU" in host.describe()
    assert readings(FakeNvml(device_count=0)) == []


def test_given_a_gpu_lost_while_listing_when_detected_then_there_is_no_gpu_and_the_nvml_error_is_the_reason():
    host = detect(FakeNvml(errors={"nvmlDeviceGetName": pynvml.NVMLError_GpuIsLost}))
    assert not host.has_gpu
    assert host.reason == "NVML error: GPU is lost"


def test_given_a_gpu_whose_uuid_cannot_be_read_when_read_then_it_is_left_out():
    assert readings(FakeNvml(errors={"nvmlDeviceGetUUID": pynvml.NVMLError_GpuIsLost})) == []


def test_given_two_gpus_when_detected_then_both_are_listed_by_index():
    host = detect(FakeNvml(device_count=2))
    assert [gpu["index"] for gpu in host.gpus] == [0, 1]
    assert host.describe().startswith("2 GPU(s): ")


def test_given_idle_then_busy_readings_when_summarized_then_means_and_peaks_match_the_recorded_samples():
    recorded = H100["idle_samples"] + H100["busy_samples"]
    summary = summarize(readings_of("idle") + readings_of("busy"))
    assert list(summary) == [UUID]
    assert summary[UUID] == {
        "samples": len(recorded),
        "utilization_gpu_mean": pytest.approx(statistics.mean(s["utilization"]["gpu"] for s in recorded), abs=TENTH),
        "power_w_mean": pytest.approx(statistics.mean(s["power_usage_mw"] / 1000 for s in recorded), abs=2 * TENTH),
        "memory_used_mb_max": pytest.approx(max(s["memory"]["used"] for s in recorded) / MIB, abs=TENTH),
        "temperature_c_max": max(s["temperature_c"] for s in recorded),
    }


def test_given_power_was_never_readable_when_summarized_then_its_mean_is_none_and_the_rest_are_summarized():
    nvml = FakeNvml("busy", unsupported=("nvmlDeviceGetPowerUsage",))
    summary = summarize([readings(nvml.at(index)) for index in range(len(nvml.samples))])[UUID]
    assert summary["power_w_mean"] is None
    assert summary["temperature_c_max"] == max(s["temperature_c"] for s in H100["busy_samples"])
    assert summary["samples"] == len(H100["busy_samples"])


def test_given_readings_of_two_gpus_when_summarized_then_each_gpu_gets_its_own_summary():
    def reading(uuid, utilization, power):
        return {
            "uuid": uuid,
            "utilization_gpu": utilization,
            "memory_used_mb": 10.0,
            "temperature_c": 30.0,
            "power_w": power,
        }

    summary = summarize(
        [
            [reading("GPU-a", 10.0, 100.0), reading("GPU-b", 90.0, 600.0)],
            [reading("GPU-a", 30.0, 200.0), reading("GPU-b", 70.0, 500.0)],
        ]
    )
    assert (summary["GPU-a"]["utilization_gpu_mean"], summary["GPU-a"]["power_w_mean"]) == (20.0, 150.0)
    assert (summary["GPU-b"]["utilization_gpu_mean"], summary["GPU-b"]["power_w_mean"]) == (80.0, 550.0)


def test_given_no_readings_when_summarized_then_the_summary_is_empty():
    assert summarize([]) == {}
    assert summarize([[], []]) == {}


@pytest.mark.parametrize("chosen", ["0", UUID, UUID[:12]])
def test_given_cuda_visible_devices_naming_the_gpu_when_detected_and_read_then_it_is_this_miners(monkeypatch, chosen):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", chosen)
    nvml = FakeNvml("busy")
    assert [g["uuid"] for g in detect(nvml).gpus] == [UUID]
    assert [r["uuid"] for r in readings(nvml.at(0))] == [UUID]


@pytest.mark.parametrize("chosen", ["", "1", "GPU-another"])
def test_given_cuda_visible_devices_leaving_the_gpu_to_another_miner_when_detected_then_none_is_reported(
    monkeypatch, chosen
):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", chosen)
    nvml = FakeNvml("busy")
    assert detect(nvml).gpus == []
    assert readings(nvml.at(0)) == []
