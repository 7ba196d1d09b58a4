"""Health of every process that answers HTTP, checked for real: the status code and the time it took.

A service is up only when its /health answers 200 in time; a 5xx (or any other status), a timeout or a
refused connection is down, with the error said in words.
"""

import asyncio
import time
from dataclasses import asdict, dataclass

import httpx
from django.conf import settings
from django.utils import timezone

from aitbc_site.times import iso

CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class ServiceCheck:
    name: str
    url: str
    status: str  # "up" | "down"
    status_code: int | None
    latency_ms: float
    error: str | None
    checked_at: str

    def as_dict(self) -> dict:
        return asdict(self)


def monitored_urls() -> dict[str, str]:
    """Every HTTP process of the stack and the URL that says whether it is healthy."""
    host = settings.AITBC_SERVICE_HOST
    urls = {name: f"http://{host}:{port}/health" for name, port in settings.AITBC_SERVICE_PORTS.items()}
    urls["flower"] = f"http://{host}:{settings.AITBC_FLOWER_PORT}/healthcheck"
    return urls


def _error_of(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    return f"HTTP {response.status_code}" + (f": {detail}" if detail else "")


async def service_check(client: httpx.AsyncClient, name: str, url: str, timeout: float) -> ServiceCheck:
    started = time.perf_counter()
    status_code, error = None, None
    try:
        response = await client.get(url, timeout=timeout)
        status_code = response.status_code
        if status_code != 200:
            error = _error_of(response)
    except httpx.TimeoutException:
        error = f"timeout: no answer within {timeout:g} s"
    except httpx.ConnectError as exc:
        error = f"connection refused: {exc or type(exc).__name__}"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    return ServiceCheck(
        name=name,
        url=url,
        status="up" if error is None else "down",
        status_code=status_code,
        latency_ms=latency_ms,
        error=error,
        checked_at=iso(timezone.now()),
    )


async def services_check(urls: dict[str, str] | None = None, timeout: float | None = None) -> list[ServiceCheck]:
    """Checks every service at once (the slowest one sets the time this takes)."""
    urls = urls if urls is not None else monitored_urls()
    timeout = timeout or CHECK_TIMEOUT_S
    async with httpx.AsyncClient(follow_redirects=False) as client:
        return list(await asyncio.gather(*(service_check(client, name, url, timeout) for name, url in urls.items())))
