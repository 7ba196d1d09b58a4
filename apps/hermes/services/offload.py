"""Job offloading: run a job on the caller's own GPU ("local") or on the marketplace, with the estimated cost and
wait of each, from the recorded history of jobs of the same type.

Estimates, and where each number comes from (the answer names the source of every one):
- run time: the median run time (started -> finished) of recent completed jobs of the type, on the local GPU
  model for local (else on any device), on every device for the marketplace; with no history at all, the
  job type runner's own estimate of GPU-seconds;
- marketplace wait: the median queue wait (submitted -> started) of those jobs; with no history, the jobs
  queued now ahead of it x the run time / the free slots of the online miners that fit it;
- local wait: the local queue depth x the local run time / local concurrency;
- marketplace cost: the median unit price of the online miners that fit x the GPU-seconds (capped at
  max_price); local cost: local.unit_price (what the caller counts its own GPU-second at) x the run time.
Decision: the faster one when prefer is "time", the cheaper one when "cost"; the marketplace only when a
miner that fits is online and the estimate is within max_price.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from statistics import median

from aitbc_site.errors import Invalid
from aitbc_site.money import money_str, quantize
from apps.ai import facade as ai


@dataclass(frozen=True)
class LocalSpec:
    gpu_model: str = ""
    queue_depth: int = 0
    concurrency: int = 1
    unit_price: Decimal = Decimal(0)


@dataclass(frozen=True)
class OffloadRequest:
    type: str
    max_price: Decimal
    local: LocalSpec
    payload: dict = field(default_factory=dict)
    constraints: dict = field(default_factory=dict)
    prefer: str = "time"


def _run_time(history: list[dict], device_words: str, fallback: float | None) -> tuple[float | None, str]:
    if device_words:
        on_device = [h["run_s"] for h in history if device_words.lower() in h["device"].lower()]
        if on_device:
            return median(on_device), f"median of {len(on_device)} completed jobs on a {device_words}"
    if history:
        return median(h["run_s"] for h in history), f"median of {len(history)} completed jobs on any device"
    if fallback is not None:
        return fallback, "no completed job of this type yet: the runner's own estimate of its GPU-seconds"
    return None, "no history and no runner estimate"


def _marketplace(request: OffloadRequest, history: list[dict], estimate: float | None) -> dict:
    run_s, run_basis = _run_time(history, request.constraints.get("gpu_model") or "", estimate)
    fitting = ai.miners_fitting(
        type=request.type, payload=request.payload, constraints=request.constraints, max_price=request.max_price
    )
    queued = ai.job_queue_depth(type=request.type)
    if not fitting or run_s is None:
        why = "no online miner fits its type, constraints and max_price" if not fitting else run_basis
        return {"available": False, "reason": why, "queued_now": queued, "miners_fitting": len(fitting)}
    price = median(m.unit_price for m in fitting)
    cost = min(quantize(price * Decimal(str(run_s))), request.max_price)
    loads = ai.miner_loads([m.id for m in fitting])
    free = sum(max(m.concurrency - loads.get(m.id, 0), 0) for m in fitting)
    if history:
        wait_s, wait_basis = median(h["wait_s"] for h in history), f"median queue wait of {len(history)} jobs"
    else:
        slots = max(free, 1)
        wait_s = queued * run_s / slots
        wait_basis = f"no history: {queued} queued ahead x {run_s:.3f} s / {slots} free slot(s) of fitting miners"
    return {
        "available": True,
        "run_s": round(run_s, 3),
        "run_basis": run_basis,
        "wait_s": round(wait_s, 3),
        "wait_basis": wait_basis,
        "cost": money_str(cost),
        "cost_basis": f"median unit price {money_str(price)} of {len(fitting)} fitting online miner(s) x run time",
        "queued_now": queued,
        "miners_fitting": len(fitting),
        "free_slots": free,
    }


def _local(request: OffloadRequest, history: list[dict], estimate: float | None) -> dict:
    local = request.local
    run_s, run_basis = _run_time(history, local.gpu_model, estimate)
    if run_s is None:
        return {"available": False, "reason": run_basis}
    wait_s = local.queue_depth * run_s / max(local.concurrency, 1)
    return {
        "available": True,
        "run_s": round(run_s, 3),
        "run_basis": run_basis,
        "wait_s": round(wait_s, 3),
        "wait_basis": f"local queue depth {local.queue_depth} x {run_s:.3f} s / concurrency {local.concurrency}",
        "cost": money_str(quantize(local.unit_price * Decimal(str(run_s)))),
        "cost_basis": f"local.unit_price {money_str(local.unit_price)} x run time",
    }


def offload_decide(request: OffloadRequest) -> dict:
    if request.prefer not in ("time", "cost"):
        raise Invalid("prefer must be 'time' or 'cost'")
    ai.job_request_check(type=request.type, payload=request.payload)
    history = ai.job_history(type=request.type)
    estimate = ai.job_estimate_gpu_seconds(type=request.type, payload=request.payload)
    local, market = _local(request, history, estimate), _marketplace(request, history, estimate)
    if not market["available"]:
        decision, reason = "local", f"the marketplace cannot take it now: {market['reason']}"
    elif not local["available"]:
        decision, reason = "marketplace", f"no estimate for local: {local['reason']}"
    elif request.prefer == "cost":
        cheaper = Decimal(market["cost"]) < Decimal(local["cost"])
        decision = "marketplace" if cheaper else "local"
        reason = f"cheaper: marketplace {market['cost']} AIT against local {local['cost']} AIT"
    else:
        market_total, local_total = market["wait_s"] + market["run_s"], local["wait_s"] + local["run_s"]
        decision = "marketplace" if market_total < local_total else "local"
        reason = f"sooner done: marketplace in {market_total:.3f} s against local in {local_total:.3f} s (wait + run)"
    return {
        "decision": decision,
        "reason": reason,
        "prefer": request.prefer,
        "history": {"completed_jobs": len(history), "type": request.type}
        | ({} if history else {"note": f"no completed {request.type} job recorded yet"}),
        "local": local,
        "marketplace": market,
    }
