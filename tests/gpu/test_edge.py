"""Edge GPU profiles and optimisation through the gpu service's API, from heartbeat telemetry."""

import uuid

import pytest

from apps.gpu.models import Gpu, GpuSample
from tests.accounts import factories as accounts_factories

pytestmark = [pytest.mark.django_db(databases="__all__"), pytest.mark.usefixtures("edge_profiles")]
H100 = {"name": "NVIDIA H100 80GB HBM3", "uuid": "GPU-1", "memory_mb": 81559, "compute_capability": "9.0"}
COOL = [(1000, 60), (1559, 70), (1200, 65)]  # (memory used MiB, temperature C) per heartbeat


def gpu_with_samples(api, card=H100, readings=COOL) -> Gpu:
    """A miner registers one card over HTTP and sends a heartbeat per reading."""
    _, key = accounts_factories.principal("miner")
    caps = {"gpus": [card], "cuda_version": "13.0", "models": [], "runners": ["echo"]}
    miner = api("gpu", key).post("/v1/miners/register", {"capabilities": caps, "unit_price": "0.01"}).json()
    for memory, temperature in readings:
        reading = {"uuid": card["uuid"], "utilization_gpu": 90, "memory_used_mb": memory, "temperature_c": temperature,
                   "power_w": 300}  # fmt: skip
        assert api("gpu", key).post("/v1/miners/heartbeat", {"gpus": [reading]}).status_code == 200
    return Gpu.objects.get(miner_id=miner["miner_id"], uuid=card["uuid"])


def optimize(api, gpu_row, params_b, sequence_length=4096):
    _, key = accounts_factories.principal("client")
    body = {"model_params_b": params_b, "sequence_length": sequence_length}
    return api("gpu", key).post(f"/v1/marketplace/edge-gpu/{gpu_row.id}/optimize", body)


def test_the_profiles_are_seeded_with_published_specifications(api):
    _, key = accounts_factories.principal("client")
    profiles = api("gpu", key).get("/v1/marketplace/edge-gpu/profiles").json()
    by_model = {p["model"]: p for p in profiles["items"]}
    assert {"RTX 4090", "RTX 3060", "Jetson AGX Orin", "L4", "A100 80GB", "H100 80GB HBM3"} <= set(by_model)
    assert (
        by_model["H100 80GB HBM3"] | {"tdp_w": 700, "bf16": True, "category": "datacenter"}
        == by_model["H100 80GB HBM3"]
    )
    assert by_model["Jetson AGX Orin"]["category"] == "edge"


def test_given_recorded_samples_when_optimizing_a_7b_model_then_a_reasoned_bf16_recommendation(api):
    h100 = gpu_with_samples(api)
    response = optimize(api, h100, 7)
    assert response.status_code == 200, response.content
    answer = response.json()
    times = sorted(s.created_at for s in GpuSample.objects.filter(gpu=h100))
    assert set(answer["telemetry"]) == {"samples", "from", "to", "peak_memory_used_mb", "peak_temperature_c",
                                        "peak_power_w", "mean_utilization_gpu"}  # fmt: skip
    assert (
        answer["telemetry"]
        | {
            "samples": 3,
            "from": times[0].isoformat().replace("+00:00", "Z"),
            "to": times[-1].isoformat().replace("+00:00", "Z"),
            "peak_memory_used_mb": 1559,
            "peak_temperature_c": 70,
        }
        == answer["telemetry"]
    )
    assert answer["profile"]["model"] == "H100 80GB HBM3"
    assert answer["calculation"]["memory_free_mb"] == 80000
    assert answer["recommendation"] == {
        "precision": "bf16",
        "weights_precision": "bf16",
        "batch_size": 30,
        "power_limit_w": 700,
    }
    assert any(line.startswith("batch size 30 = floor((80000 - ") for line in answer["reasoning"])


def test_given_a_longer_sequence_when_optimizing_then_fewer_sequences_fit(api):
    h100 = gpu_with_samples(api)
    short = optimize(api, h100, 7, sequence_length=2048).json()["recommendation"]["batch_size"]
    long = optimize(api, h100, 7, sequence_length=8192).json()["recommendation"]["batch_size"]
    assert short > 30 > long >= 1


def test_given_hotter_samples_when_optimizing_then_the_power_limit_is_85_percent_of_tdp_with_the_reason(api):
    h100 = gpu_with_samples(api, readings=[(1559, 78), (1559, 86)])
    answer = optimize(api, h100, 7).json()
    assert answer["recommendation"]["power_limit_w"] == 595
    assert any("86 C is at or above 83 C" in line for line in answer["reasoning"])


def test_given_a_70b_model_when_bf16_weights_do_not_fit_then_int8_weights_with_one_sequence(api):
    h100 = gpu_with_samples(api)
    answer = optimize(api, h100, 70).json()
    assert (
        answer["recommendation"] | {"precision": "bf16", "weights_precision": "int8", "batch_size": 1}
        == answer["recommendation"]
    )
    assert any(line.startswith("weights in int8") for line in answer["reasoning"])


def test_given_a_model_too_big_even_in_int8_when_optimizing_then_422_saying_it_does_not_fit(api):
    h100 = gpu_with_samples(api)
    response = optimize(api, h100, 200)
    assert response.status_code == 422
    assert "does not fit" in response.json()["detail"]


def test_given_a_card_without_bf16_when_optimizing_then_fp16(api):
    t4 = gpu_with_samples(api, card={"name": "Tesla T4", "uuid": "GPU-T4", "memory_mb": 15360})
    answer = optimize(api, t4, 1, sequence_length=1024).json()
    assert (answer["profile"]["model"], answer["recommendation"]["precision"]) == ("T4", "fp16")


def test_given_a_gpu_no_profile_names_when_optimizing_then_422_naming_its_model(api):
    l40s = gpu_with_samples(api, card={"name": "NVIDIA L40S", "uuid": "GPU-L40S", "memory_mb": 46068})
    response = optimize(api, l40s, 7)
    assert response.status_code == 422
    assert "'NVIDIA L40S'" in response.json()["detail"]


def test_given_an_unknown_gpu_when_optimizing_then_404(api):
    _, key = accounts_factories.principal("client")
    body = {"model_params_b": 7, "sequence_length": 4096}
    assert api("gpu", key).post(f"/v1/marketplace/edge-gpu/{uuid.uuid4()}/optimize", body).status_code == 404


@pytest.mark.parametrize(
    "body", [{"model_params_b": 0, "sequence_length": 1}, {"model_params_b": 7, "sequence_length": 0}]
)
def test_given_bad_input_when_optimizing_then_422(api, body):
    h100 = gpu_with_samples(api, readings=[])
    _, key = accounts_factories.principal("client")
    assert api("gpu", key).post(f"/v1/marketplace/edge-gpu/{h100.id}/optimize", body).status_code == 422
