"""The domain gauges every service's /metrics adds at scrape time, read from the domains' facades: each domain
service gauges its own data, monitoring the whole platform. The kernel's collector (aitbc_site.metrics) asks for
them through its `domain_gauges` hook, which this app provides."""

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from apps.ai import facade as ai
from apps.gpu import facade as gpu
from apps.marketplace import facade as marketplace
from apps.monitoring.selectors import queue_depths
from apps.trading import facade as trading


def _ai() -> Iterable:
    jobs = GaugeMetricFamily("aitbc_jobs", "Jobs by state", labels=["state"])
    for state, count in ai.jobs_by_state().items():
        jobs.add_metric([state], count)
    yield jobs


def _gpu() -> Iterable:
    counts = gpu.miner_counts()
    yield GaugeMetricFamily("aitbc_miners_online", "Miners with a recent heartbeat", value=counts["online"])
    yield GaugeMetricFamily(
        "aitbc_miners_registered", "Miners registered (not deregistered)", value=counts["registered"]
    )
    gpus = GaugeMetricFamily("aitbc_gpus", "GPUs in the registry, by model", labels=["model"])
    online = GaugeMetricFamily("aitbc_gpus_online", "GPUs on online miners, by model", labels=["model"])
    utilization = GaugeMetricFamily(
        "aitbc_gpu_utilization_percent", "Mean GPU utilisation from the latest heartbeats, by model", labels=["model"]
    )
    for row in gpu.gpus_by_model():
        gpus.add_metric([row["model"]], row["count"])
        online.add_metric([row["model"]], row["online"])
        if row["utilization_avg"] is not None:
            utilization.add_metric([row["model"]], row["utilization_avg"])
    yield from (gpus, online, utilization)


def _marketplace() -> Iterable:
    orders = marketplace.open_orders()
    family = GaugeMetricFamily("aitbc_open_orders", "Live orders in the GPU-hour book", labels=["side"])
    family.add_metric(["offer"], orders["offers"])
    family.add_metric(["bid"], orders["bids"])
    yield family


def _trading() -> Iterable:
    settled = CounterMetricFamily("aitbc_settlements", "Settlements through the ledger, by kind", labels=["kind"])
    for kind, count in trading.settlement_counts().items():
        settled.add_metric([kind], count)
    yield settled
    head = trading.chain_head()
    if head["height"] is not None:
        yield GaugeMetricFamily("aitbc_block_height", "Height of the latest sealed block", value=head["height"])
    totals = trading.ledger_totals()
    yield GaugeMetricFamily("aitbc_escrow_held_ait", "AIT held in escrow", value=float(totals["escrow_held"]))
    yield GaugeMetricFamily("aitbc_fees_collected_ait", "AIT in the platform fee account", value=float(totals["fees"]))


def _queues() -> Iterable:
    depths = queue_depths()
    family = GaugeMetricFamily("aitbc_queue_depth", "Messages waiting in each Celery queue", labels=["queue"])
    for queue, depth in depths["depths"].items():
        family.add_metric([queue], depth)
    yield family
    if depths["error"]:
        raise RuntimeError(depths["error"])


GAUGES = {"ai": _ai, "gpu": _gpu, "marketplace": _marketplace, "trading": _trading, "queues": _queues}
# Each domain service gauges its own data; monitoring gauges the whole platform.
SERVICE_GAUGES = {
    "ai": ("ai",),
    "gpu": ("gpu",),
    "marketplace": ("marketplace",),
    "trading": ("trading",),
    "monitoring": ("ai", "gpu", "marketplace", "trading", "queues"),
}


def gauges_of(service: str) -> dict:
    return {domain: GAUGES[domain] for domain in SERVICE_GAUGES.get(service, ())}
