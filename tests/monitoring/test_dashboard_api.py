"""The monitoring JSON: the summary read from every domain, the host, and who may read them."""

import pytest

from aitbc_site.queues import CONTROL_PLANE_QUEUES
from apps.ai.services.claim import job_claim
from apps.ai.services.lifecycle import job_complete, job_fail
from apps.gpu.models import Miner
from apps.gpu.services.miners import miner_heartbeat
from apps.marketplace.models import Offer
from tests.ai import factories as ai_factories
from tests.gpu import factories as gpu_factories
from tests.trading import factories as trading_factories

pytestmark = pytest.mark.django_db(databases="__all__")


def test_the_summary_counts_jobs_by_state_and_per_minute_from_stored_times(api, admin_key, committed):
    client, _ = trading_factories.funded_client("100")
    miner = gpu_factories.miner(unit_price="0.5")
    jobs = [ai_factories.job(client) for _ in range(4)]
    done, failed = job_claim(miner=miner), job_claim(miner=miner)
    committed(job_complete, miner=miner, job_id=done.id, result={"ok": True}, metrics={"gpu_seconds": 1})
    committed(job_fail, miner=miner, job_id=failed.id, code="oom", message="out of memory", retryable=False)

    summary = api("monitoring", admin_key).get("/v1/dashboard/summary").json()

    assert summary["jobs"]["by_state"]["QUEUED"] == len(jobs) - 2
    assert summary["jobs"]["by_state"]["COMPLETED"] == 1
    assert summary["jobs"]["by_state"]["FAILED"] == 1
    assert summary["jobs"]["by_state"]["CANCELED"] == 0
    per_minute = summary["jobs"]["per_minute"]
    assert len(per_minute["minutes"]) == 30
    assert sum(per_minute["series"]["submitted"]) == 4
    assert sum(per_minute["series"]["started"]) == 2
    assert sum(per_minute["series"]["COMPLETED"]) == 1
    assert sum(per_minute["series"]["FAILED"]) == 1
    assert summary["settlements"]["jobs"] == 1


def test_the_summary_shows_miners_online_and_gpus_by_model_with_utilisation_from_heartbeats(api, admin_key):
    first, second = gpu_factories.miner(), gpu_factories.miner(mode="celery")
    for view, utilization in ((first, 80), (second, 40)):
        miner = Miner.objects.get(id=view.id)
        reading = {"uuid": gpu_factories.gpu_uuids(view)[0], "utilization_gpu": utilization, "memory_used_mb": 1000,
                   "temperature_c": 60, "power_w": 300}  # fmt: skip
        miner_heartbeat(miner=miner, inflight=0, readings=[reading], job_ids=None)

    summary = api("monitoring", admin_key).get("/v1/dashboard/summary").json()

    assert summary["miners"] == {"registered": 2, "online": 2, "offline": 0}
    [h100] = summary["gpus"]["by_model"]
    assert (h100["model"], h100["count"], h100["online"]) == (gpu_factories.H100["name"], 2, 2)
    assert h100["utilization_avg"] == 60
    utilization = summary["gpus"]["utilization_per_minute"]["series"][gpu_factories.H100["name"]]
    assert utilization[-1] == 60
    assert set(summary["queues"]["depths"]) == {*CONTROL_PLANE_QUEUES, f"gpu.{second.id}"}
    assert summary["queues"]["error"] is None


def test_the_summary_reads_ledger_totals_block_height_and_open_orders(api, admin_key):
    client, _ = trading_factories.funded_client("100")
    ai_factories.job(client, max_price="7")
    miner = gpu_factories.miner()
    Offer.objects.create(miner_id=miner.id, provider_id=miner.principal_id, gpu_model="H100", gpu_class="h100",
                         gpu_memory_gb=80, gpu_count=1, price_per_hour=2, hours=3, remaining_hours=3)  # fmt: skip

    summary = api("monitoring", admin_key).get("/v1/dashboard/summary").json()

    assert summary["ledger"]["supply"] == "1000000000.00000000"
    assert summary["ledger"]["principals"] == "100.00000000"
    assert summary["ledger"]["escrow_held"] == "7.00000000"
    assert summary["blocks"]["height"] is None
    assert summary["blocks"]["unsealed"] >= 2  # genesis and the credit, at least
    assert summary["orders"]["offers"] == 1
    assert summary["orders"]["bids"] == 0


def test_host_metrics_are_read_from_the_host(api, admin_key):
    host = api("monitoring", admin_key).get("/v1/dashboard/metrics").json()
    assert 0 <= host["cpu"]["percent"] <= 100
    assert host["cpu"]["count"] >= 1
    assert 0 < host["memory"]["used_bytes"] < host["memory"]["total_bytes"]
    assert 0 < host["disk"]["used_bytes"] < host["disk"]["total_bytes"]


@pytest.mark.parametrize("path", ["/v1/dashboard", "/v1/dashboard/summary", "/v1/dashboard/metrics"])
def test_only_admin_keys_may_read_the_dashboard(api, make_key, path):
    _, key = make_key("client")
    assert api("monitoring").get(path).status_code == 401
    refused = api("monitoring", key).get(path)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"


def test_the_dashboard_page_is_served_with_its_scripts_and_no_data(api):
    page = api("monitoring").get("/dashboard")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="static/monitoring/vendor/chart.umd.min.js"' in html
    assert 'id="chart-jobs"' in html
    assert "cdn" not in html.lower()
