import numpy as np
import pytest

from aitbc_miner.runners import Device, PayloadError, runner_for, runners

CPU = Device("cpu", "cpu")


def numpy_checksum(n: int, dtype=np.float32) -> float:
    """The mean absolute entry of a @ b, a then b drawn from a generator seeded 0, as the CPU matmul does."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    return float(np.abs(a @ b).mean())


def test_given_the_built_in_runners_when_listed_then_echo_sleep_and_matmul_are_there():
    assert {"echo", "sleep", "matmul"} <= set(runners())
    assert [runner_for(name).type for name in ("echo", "sleep", "matmul")] == ["echo", "sleep", "matmul"]


def test_given_an_unknown_job_type_when_looked_up_then_there_is_no_runner():
    assert runner_for("nope") is None


def test_given_a_cpu_and_a_cuda_device_when_asked_then_only_the_cuda_one_is_a_gpu():
    assert not CPU.is_gpu
    assert Device("cuda", "NVIDIA H100 80GB HBM3", 0).is_gpu


def test_given_an_echo_job_when_run_then_its_payload_comes_back():
    payload = {"message": "hello", "numbers": [1, 2, 3]}
    echo = runner_for("echo")
    assert echo.run(echo.validate(payload), CPU) == {"echo": payload}


@pytest.mark.parametrize("seconds", [-1, -0.5, 3600.5, 3601, "5", True, False, None, float("nan"), float("inf")])
def test_given_a_sleep_job_with_bad_seconds_when_validated_then_it_is_refused(seconds):
    with pytest.raises(PayloadError, match="payload.seconds"):
        runner_for("sleep").validate({"seconds": seconds})


@pytest.mark.parametrize("seconds", [0, 0.25, 1, 3600])
def test_given_a_sleep_job_with_seconds_in_range_when_validated_then_they_are_kept(seconds):
    assert runner_for("sleep").validate({"seconds": seconds}) == {"seconds": seconds}


def test_given_a_sleep_job_without_seconds_when_validated_then_it_sleeps_one_second():
    sleep = runner_for("sleep")
    assert sleep.validate({}) == {"seconds": 1}
    assert sleep.estimate_gpu_seconds({}) == 1.0


def test_given_a_short_sleep_job_when_run_then_it_reports_the_seconds_slept():
    sleep = runner_for("sleep")
    payload = sleep.validate({"seconds": 0.01})
    assert sleep.run(payload, CPU) == {"slept_seconds": 0.01}
    assert sleep.estimate_gpu_seconds(payload) == 0.01


def test_given_an_empty_matmul_payload_when_validated_then_the_defaults_are_filled_in():
    assert runner_for("matmul").validate({}) == {"n": 1024, "repeat": 1, "dtype": "float32"}


def test_given_a_matmul_payload_with_extra_keys_when_validated_then_they_are_kept():
    assert runner_for("matmul").validate({"n": 64, "note": "bench"}) == {
        "n": 64,
        "repeat": 1,
        "dtype": "float32",
        "note": "bench",
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"n": 0}, "payload.n"),
        ({"n": 32769}, "payload.n"),
        ({"n": -64}, "payload.n"),
        ({"n": "64"}, "payload.n"),
        ({"n": 64.0}, "payload.n"),
        ({"n": True}, "payload.n"),
        ({"repeat": 0}, "payload.repeat"),
        ({"repeat": 10001}, "payload.repeat"),
        ({"repeat": "2"}, "payload.repeat"),
        ({"dtype": "int8"}, "payload.dtype"),
        ({"dtype": "FLOAT32"}, "payload.dtype"),
        ({"dtype": None}, "payload.dtype"),
    ],
)
def test_given_a_matmul_payload_with_a_bad_field_when_validated_then_it_is_refused_with_the_field_named(payload, field):
    with pytest.raises(PayloadError, match=field):
        runner_for("matmul").validate(payload)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
def test_given_each_supported_dtype_when_validated_then_it_is_accepted(dtype):
    assert runner_for("matmul").validate({"dtype": dtype})["dtype"] == dtype


def test_given_a_small_matmul_on_the_cpu_when_run_then_numpy_reports_positive_tflops_and_the_seeded_checksum():
    matmul = runner_for("matmul")
    result = matmul.run(matmul.validate({"n": 64, "repeat": 3}), CPU)
    assert (result["n"], result["repeat"], result["dtype"]) == (64, 3, "float32")
    assert (result["backend"], result["device"]) == ("numpy", "cpu")
    assert result["seconds"] > 0
    assert result["tflops"] > 0
    assert result["checksum"] == pytest.approx(numpy_checksum(64), rel=1e-6)


def test_given_a_float64_matmul_on_the_cpu_when_run_then_the_checksum_is_computed_in_float64():
    matmul = runner_for("matmul")
    result = matmul.run(matmul.validate({"n": 64, "dtype": "float64"}), CPU)
    assert result["dtype"] == "float64"
    assert result["checksum"] == pytest.approx(numpy_checksum(64, np.float64), rel=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_given_a_half_precision_matmul_and_no_gpu_when_run_then_it_still_runs_in_float32_on_the_cpu(dtype):
    matmul = runner_for("matmul")
    result = matmul.run(matmul.validate({"n": 64, "dtype": dtype}), CPU)
    assert (result["dtype"], result["backend"]) == (dtype, "numpy")
    assert result["checksum"] == pytest.approx(numpy_checksum(64), rel=1e-6)


def test_given_larger_matrices_or_more_repeats_when_estimated_then_the_gpu_seconds_grow():
    matmul = runner_for("matmul")
    estimates = [matmul.estimate_gpu_seconds(matmul.validate({"n": n})) for n in (64, 1024, 4096, 16384)]
    assert estimates == sorted(set(estimates))
    assert matmul.estimate_gpu_seconds(matmul.validate({"n": 1024, "repeat": 10})) > estimates[1]
    assert estimates[0] > 0
