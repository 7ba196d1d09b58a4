"""Edge GPU profiles and inference optimisation: a recommendation computed from a GPU's published profile,
its recorded telemetry and the model to run, with the working shown.

Every number in an answer comes from the profile, the request or the GPU's recorded samples. The one
modelling assumption is stated in the answer: a decoder-only transformer whose parameters are about
12 x layers x hidden^2 with hidden = 128 x layers (the shape of GPT-3 and LLaMA), so that the KV cache a
sequence needs can be estimated from the parameter count alone.
"""

import math
import re
from datetime import timedelta
from uuid import UUID

from django.db.models import Avg, Count, Max, Min, Q
from django.utils import timezone

from aitbc_site.errors import Invalid, NotFound
from aitbc_site.times import iso
from apps.gpu.contracts import MinerView
from apps.gpu.models import EdgeGpuProfile, Gpu, GpuSample, GpuStatus, Miner, MinerStatus
from apps.gpu.selectors.miners import online_since

MIB = 2**20
BYTES_PER_PARAM = {"fp32": 4, "bf16": 2, "fp16": 2, "int8": 1}
HIDDEN_PER_LAYER = 128  # hidden size / layers in GPT-3 (12288/96) and LLaMA 7B-13B (4096/32, 5120/40)
PARAMS_PER_LAYER_HIDDEN2 = 12  # attention 4h^2 + MLP 8h^2 per layer
THROTTLE_TEMPERATURE_C = 83.0  # where NVIDIA boards start lowering clocks to hold temperature
HOT_POWER_FRACTION = 0.85


def _words(name: str) -> set[str]:
    return {w for w in re.split(r"[\s\-_/]+", name.lower()) if w}


def profile_for(model_name: str) -> EdgeGpuProfile | None:
    """The profile every word of whose name is a word of the GPU's reported name (case-insensitive), the
    most specific first: "NVIDIA A100-SXM4-80GB" is "A100 80GB"; "NVIDIA L40S" is not "L4"."""
    words = _words(model_name)
    matches = [p for p in EdgeGpuProfile.objects.all() if _words(p.model) <= words]
    return max(matches, key=lambda p: (len(_words(p.model)), p.model), default=None)


def edge_profiles() -> list[EdgeGpuProfile]:
    return list(EdgeGpuProfile.objects.all())


def _telemetry(gpu: Gpu) -> dict:
    stats = GpuSample.objects.filter(gpu=gpu).aggregate(
        samples=Count("id"),
        first=Min("created_at"),
        last=Max("created_at"),
        peak_memory_used_mb=Max("memory_used_mb"),
        peak_temperature_c=Max("temperature_c"),
        peak_power_w=Max("power_w"),
        mean_utilization_gpu=Avg("utilization_gpu"),
    )
    first, last = stats.pop("first"), stats.pop("last")
    return {**stats, "from": iso(first), "to": iso(last)}


def _precision(profile: EdgeGpuProfile) -> tuple[str, str]:
    if profile.bf16:
        return "bf16", (
            f"bf16: the {profile.model}'s tensor cores support bfloat16 ({profile.fp16_tflops:g} dense TFLOPS "
            f"against {profile.fp32_tflops:g} in fp32), and bf16 keeps fp32's exponent range"
        )
    if profile.fp16_tflops > 0:
        return "fp16", (
            f"fp16: the {profile.model} has no bf16, but its fp16 tensor throughput is {profile.fp16_tflops:g} "
            f"dense TFLOPS against {profile.fp32_tflops:g} in fp32"
        )
    return "fp32", f"fp32: the {profile.model} has neither bf16 nor fp16 tensor throughput"


def _model_shape(params: float) -> tuple[float, float]:
    """(layers, hidden) of a decoder with `params` parameters under the stated shape assumption."""
    layers = (params / (PARAMS_PER_LAYER_HIDDEN2 * HIDDEN_PER_LAYER**2)) ** (1 / 3)
    return layers, HIDDEN_PER_LAYER * layers


def _power(profile: EdgeGpuProfile, peak_temperature: float | None) -> tuple[int, str]:
    if peak_temperature is None:
        return profile.tdp_w, f"power limit {profile.tdp_w} W, the TDP: no temperature was recorded"
    if peak_temperature >= THROTTLE_TEMPERATURE_C:
        limit = math.floor(profile.tdp_w * HOT_POWER_FRACTION)
        return limit, (
            f"power limit {limit} W, {HOT_POWER_FRACTION:.0%} of the {profile.tdp_w} W TDP: the peak recorded "
            f"temperature {peak_temperature:g} C is at or above {THROTTLE_TEMPERATURE_C:g} C, where the card "
            "throttles its clocks anyway; a lower limit keeps it cooler for a small loss of speed"
        )
    return profile.tdp_w, (
        f"power limit {profile.tdp_w} W, the TDP: the peak recorded temperature {peak_temperature:g} C is "
        f"below {THROTTLE_TEMPERATURE_C:g} C"
    )


def _free_memory(gpu: Gpu, profile: EdgeGpuProfile, telemetry: dict) -> tuple[int, float, str]:
    """(total MiB, free MiB, the reasoning): the GPU's memory less the peak use its samples recorded."""
    total_mb, source = (
        (gpu.memory_mb, "as the GPU reported it") if gpu.memory_mb else (profile.memory_mb, "from the profile")
    )
    peak_used = telemetry["peak_memory_used_mb"]
    free_mb = total_mb - (peak_used or 0)
    why = (
        f"memory: {total_mb} MiB ({source}) - {peak_used or 0:g} MiB peak use "
        + (f"in {telemetry['samples']} samples" if peak_used is not None else "(no memory use recorded)")
        + f" = {free_mb:g} MiB free"
    )
    return total_mb, free_mb, why


def _batch(
    gpu: Gpu,
    profile: EdgeGpuProfile,
    precision: str,
    *,
    model_params_b: float,
    sequence_length: int,
    per_sequence_mb: float,
    free_mb: float,
) -> tuple[str, float, int]:
    """(weights precision, weights MiB, batch size): the compute precision's weights, or int8 weights when only
    those leave room for one sequence (on a card with INT8 throughput); 422 when neither does."""
    params = model_params_b * 1e9
    choices = [precision] + (["int8"] if profile.int8_tops > 0 and precision != "int8" else [])
    for weights_precision in choices:
        weights_mb = params * BYTES_PER_PARAM[weights_precision] / MIB
        sequences = (free_mb - weights_mb) / per_sequence_mb
        batch = math.floor(sequences) if math.isfinite(sequences) else 0  # a reading stored before bounds: no fit
        if batch >= 1:
            return weights_precision, weights_mb, batch
    raise Invalid(
        f"model_params_b: a {model_params_b:g}B model at {sequence_length} tokens does not fit on this "
        f"{gpu.model}: {weights_mb:.0f} MiB of {weights_precision} weights + {per_sequence_mb:.1f} MiB per "
        f"sequence, with {free_mb:g} MiB free"
    )


def edge_optimize(*, gpu_id: UUID, model_params_b: float, sequence_length: int) -> dict:
    """Precision, batch size and power limit for running a `model_params_b`-billion-parameter model at
    `sequence_length` tokens on this GPU, with the reasoning. 422 when no profile matches its model, or
    when the model does not fit even with int8 weights."""
    gpu = Gpu.objects.filter(id=gpu_id).first()
    if gpu is None:
        raise NotFound(f"no GPU {gpu_id}")
    profile = profile_for(gpu.model)
    if profile is None:
        known = ", ".join(p.model for p in edge_profiles())
        raise Invalid(f"gpu_id: no edge GPU profile matches the model {gpu.model!r} (profiles: {known})")
    telemetry = _telemetry(gpu)
    total_mb, free_mb, memory_why = _free_memory(gpu, profile, telemetry)
    precision, precision_why = _precision(profile)
    params = model_params_b * 1e9
    layers, hidden = _model_shape(params)
    per_sequence_mb = 2 * layers * hidden * sequence_length * BYTES_PER_PARAM[precision] / MIB
    reasons = [
        memory_why,
        precision_why,
        f"activations: a KV cache of 2 x {layers:.1f} layers x {hidden:.0f} hidden x {sequence_length} tokens x "
        f"{BYTES_PER_PARAM[precision]} bytes = {per_sequence_mb:.1f} MiB per sequence (a {model_params_b:g}B "
        f"decoder estimated as {PARAMS_PER_LAYER_HIDDEN2} x layers x hidden^2 parameters, hidden = "
        f"{HIDDEN_PER_LAYER} x layers)",
    ]
    weights_precision, weights_mb, batch = _batch(
        gpu,
        profile,
        precision,
        model_params_b=model_params_b,
        sequence_length=sequence_length,
        per_sequence_mb=per_sequence_mb,
        free_mb=free_mb,
    )
    if weights_precision != precision:
        reasons.append(
            f"weights in int8: {precision} weights ({params * BYTES_PER_PARAM[precision] / MIB:.0f} MiB) leave no "
            f"room for one sequence; int8 weights ({weights_mb:.0f} MiB) do, and the card has "
            f"{profile.int8_tops:g} dense INT8 TOPS"
        )
    reasons.append(
        f"batch size {batch} = floor(({free_mb:g} - {weights_mb:.1f} MiB of {weights_precision} weights) / "
        f"{per_sequence_mb:.1f} MiB per sequence)"
    )
    power_limit, power_why = _power(profile, telemetry["peak_temperature_c"])
    reasons.append(power_why)
    return {
        "gpu_id": gpu.id,
        "gpu_model": gpu.model,
        "profile": profile,
        "request": {"model_params_b": model_params_b, "sequence_length": sequence_length},
        "telemetry": telemetry,
        "recommendation": {
            "precision": precision,
            "weights_precision": weights_precision,
            "batch_size": batch,
            "power_limit_w": power_limit,
        },
        "calculation": {
            "memory_total_mb": total_mb,
            "memory_free_mb": free_mb,
            "weights_mb": round(weights_mb, 1),
            "kv_cache_mb_per_sequence": round(per_sequence_mb, 1),
            "layers_estimate": round(layers, 1),
            "hidden_estimate": round(hidden),
        },
        "reasoning": reasons,
    }


EDGE_TELEMETRY_WINDOW = timedelta(hours=1)


def edge_hosts() -> list[dict]:
    """Every online miner's GPUs with the edge GPU profile each matches (None when none does) and its telemetry
    over the last hour: {"miner": MinerView, "inflight", "gpus": [{"gpu_id", "model", "memory_mb", "profile":
    {"model", "category", "memory_mb", "tdp_w", "fp16_tflops", "int8_tops"} | None, "samples",
    "mean_utilization_gpu", "peak_temperature_c"}]}."""
    since = timezone.now() - EDGE_TELEMETRY_WINDOW
    recent = Q(samples__created_at__gte=since)
    miners = Miner.objects.filter(status=MinerStatus.ONLINE, last_heartbeat_at__gte=online_since())
    gpus = (
        Gpu.objects.filter(miner__in=miners)
        .exclude(status=GpuStatus.OFFLINE)
        .annotate(
            n=Count("samples", filter=recent),
            mean_util=Avg("samples__utilization_gpu", filter=recent),
            peak_temp=Max("samples__temperature_c", filter=recent),
        )
    )
    by_miner: dict = {}
    for gpu in gpus:
        profile = profile_for(gpu.model)
        by_miner.setdefault(gpu.miner_id, []).append(
            {
                "gpu_id": gpu.id,
                "model": gpu.model,
                "memory_mb": gpu.memory_mb,
                "profile": profile
                and {
                    f: getattr(profile, f)
                    for f in ("model", "category", "memory_mb", "tdp_w", "fp16_tflops", "int8_tops")
                },
                "samples": gpu.n,
                "mean_utilization_gpu": gpu.mean_util,
                "peak_temperature_c": gpu.peak_temp,
            }
        )
    return [
        {"miner": MinerView.from_model(m, online=True), "inflight": m.inflight, "gpus": by_miner.get(m.id, [])}
        for m in miners
    ]
