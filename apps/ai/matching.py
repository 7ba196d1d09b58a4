"""Which miner may run which job. One rule, used by dispatch, by the claim and to explain a wait."""

from django.db.models import DecimalField, ExpressionWrapper, F, Q, Value

from aitbc_site.money import MoneyField
from apps.gpu.facade import MinerView


def cuda_code(version: str) -> int:
    """ "12.4" -> 1204; "" -> 0. ValueError when it is not a version."""
    if not version:
        return 0
    major, _, minor = version.partition(".")
    return int(major) * 100 + int(minor.split(".")[0] or 0)


def unit_price_for(miner: MinerView, job):
    """The price per GPU-second this miner would run the job at: the price fixed when the job was assigned
    to it; else the job's quote (the price a routed agent advertised); else the miner's registered price."""
    if job.unit_price is not None and job.assigned_miner_id == miner.id:
        return job.unit_price
    if job.quoted_unit_price is not None:
        return job.quoted_unit_price
    return miner.unit_price


def miner_fit(miner: MinerView, job) -> str | None:
    """None when the miner meets every constraint of the job, and a job of the expected size fits max_price
    at the price it would run at (unit_price_for); otherwise the first thing it misses."""
    if job.type not in miner.runners:
        return f"no runner for {job.type!r}"
    if job.pinned_miner_id and job.pinned_miner_id != miner.id:
        return "the job is for another miner"
    if job.region and job.region != miner.region:
        return f"region {job.region!r} (miner is in {miner.region or 'no region'!r})"
    gpus = [(name, memory) for name, memory in miner.gpus if job.gpu_model.lower() in name.lower()]
    if job.gpu_model and not gpus:
        return f"no {job.gpu_model} GPU"
    if job.min_vram_mb and not any(memory >= job.min_vram_mb for _, memory in gpus):
        return f"no GPU with {job.min_vram_mb} MiB"
    try:
        miner_cuda = cuda_code(miner.cuda_version)
    except ValueError:
        miner_cuda = 0
    if job.min_cuda and miner_cuda < job.min_cuda:
        return f"CUDA {miner.cuda_version or 'none'} is older than required"
    missing = set(job.models_required) - set(miner.models)
    if missing:
        return f"missing models {sorted(missing)}"
    unit_price = unit_price_for(miner, job)
    if unit_price * job.expected_units > job.max_price:
        return f"unit price {unit_price} x {job.expected_units} expected GPU-seconds exceeds max_price"
    return None


def claimable_filter(miner: MinerView) -> Q:
    """The part of miner_fit a database can check, so the claim scans only plausible queued jobs (a job with a
    quote is priced at the quote: miner_fit checks that one)."""
    max_vram = max((memory for _, memory in miner.gpus), default=0)
    # both sides stay in 1e-8 units: expected_units (scaled) x unit price (plain) against max_price (scaled)
    price = Value(miner.unit_price, output_field=DecimalField(max_digits=28, decimal_places=8))
    try:
        miner_cuda = cuda_code(miner.cuda_version)
    except ValueError:
        miner_cuda = 0
    return (
        Q(type__in=miner.runners)
        & (Q(pinned_miner_id__isnull=True) | Q(pinned_miner_id=miner.id))
        & (Q(region="") | Q(region=miner.region))
        & Q(min_vram_mb__lte=max_vram, min_cuda__lte=miner_cuda)
        & (
            Q(quoted_unit_price__isnull=False)
            | Q(max_price__gte=ExpressionWrapper(F("expected_units") * price, output_field=MoneyField()))
        )
    )
