import asyncio

import httpx
from asgiref.sync import sync_to_async
from django.http import JsonResponse

from aitbc_site.domains import DOMAINS
from aitbc_site.health import health_report
from gateway.routing import service_base_url


async def _service_status(client: httpx.AsyncClient, service: str) -> str:
    try:
        response = await client.get(f"{service_base_url(service)}/health")
    except httpx.HTTPError as exc:
        return f"error: unreachable ({type(exc).__name__})"
    if response.status_code == 200:
        return "ok"
    try:
        return f"error: {response.json().get('detail', response.status_code)}"
    except ValueError:
        return f"error: HTTP {response.status_code}"


async def gateway_health(request):
    """The gateway's own database and broker, and every service's /health."""
    report = await sync_to_async(health_report)("gateway")
    async with httpx.AsyncClient(timeout=2.0) as client:
        results = await asyncio.gather(*(_service_status(client, s) for s in DOMAINS))
    services = dict(zip(DOMAINS, results, strict=True))
    report["services"] = services
    down = [name for name, status in services.items() if status != "ok"]
    if down:
        report["status"] = "error"
        report["code"] = "unhealthy"
        report["detail"] = "; ".join(filter(None, [report.get("detail"), f"services down: {', '.join(down)}"]))
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


def openapi_index(request):
    """Every service's OpenAPI document and docs, through this gateway."""
    services = [{"service": s, "openapi": f"/{s}/v1/openapi.json", "docs": f"/{s}/v1/docs"} for s in DOMAINS]
    return JsonResponse({"services": services})
