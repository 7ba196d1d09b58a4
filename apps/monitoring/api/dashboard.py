"""The monitoring service's JSON: service health, the platform summary and the host (operators: admin key)."""

from asgiref.sync import sync_to_async
from ninja import Router, Schema

from aitbc_site.api import Error
from apps.accounts.auth import admins
from apps.monitoring.checks import services_check
from apps.monitoring.selectors import dashboard_summary, host_metrics

router = Router(tags=["monitoring"])


class ServiceOut(Schema):
    name: str
    url: str
    status: str
    status_code: int | None
    latency_ms: float
    error: str | None
    checked_at: str


class SummaryOut(Schema):
    generated_at: str
    jobs: dict
    miners: dict
    gpus: dict
    queues: dict
    services: dict
    workers: list[dict]
    ledger: dict
    settlements: dict
    blocks: dict
    orders: dict


class DashboardOut(Schema):
    status: str
    services: list[ServiceOut]
    down: list[str]
    summary: SummaryOut


class HostOut(Schema):
    generated_at: str
    cpu: dict
    memory: dict
    disk: dict


@router.get("/dashboard", auth=admins, response={200: DashboardOut, 401: Error, 403: Error})
async def dashboard(request):
    """Every service with its status and measured latency (down: with its error), and the summary."""
    checks = await services_check()  # first, so the summary's database reads never delay this service's own check
    summary = await sync_to_async(dashboard_summary)()
    down = [check.name for check in checks if check.status != "up"]
    return {
        "status": "ok" if not down else "degraded",
        "services": [check.as_dict() for check in checks],
        "down": down,
        "summary": summary,
    }


@router.get("/dashboard/summary", auth=admins, response={200: SummaryOut, 401: Error, 403: Error})
def summary(request):
    """Jobs by state and per minute, miners online, GPUs by model with utilisation, queue depths now and per
    minute, service latency per minute, workers, ledger totals, settlements, block height and open orders."""
    return dashboard_summary()


@router.get("/dashboard/metrics", auth=admins, response={200: HostOut, 401: Error, 403: Error})
def host(request):
    """This host's CPU, memory and disk."""
    return host_metrics()
