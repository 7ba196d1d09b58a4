"""Prometheus metrics: every request by route and status (a middleware; the gateway's proxied requests
are observed in gateway.asgi), and domain gauges computed at scrape time (apps/monitoring/metrics.py provides
them).

Multiprocess-safe: `aitbc serve` points PROMETHEUS_MULTIPROC_DIR at AITBC_HOME/prometheus/<service>
before any server process starts, so every worker process of a service writes its own file and /metrics
adds them up. Without it (tests, `manage.py`) the process's own registry is served.
"""

import ipaddress
import logging
import os
import time
from collections.abc import Callable, Iterable

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from aitbc_site.hooks import Hook

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "aitbc_http_requests", "HTTP requests answered, by route and status", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "aitbc_http_request_duration_seconds", "Time to answer an HTTP request, by route", ["service", "method", "route"]
)


# Methods are labelled from this set; any other (a client may send any token as a method) is "other", so
# that made-up methods cannot mint new series.
METHODS = frozenset(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def request_observe(service: str, method: str, route: str, status: int, seconds: float) -> None:
    method = method_label(method)
    REQUESTS.labels(service, method, route, str(status)).inc()
    LATENCY.labels(service, method, route).observe(seconds)


def route_of(request: HttpRequest) -> str:
    """The URL pattern that answered (`v1/jobs/<job_id>`), never the raw path (ids would explode the series)."""
    match = getattr(request, "resolver_match", None)
    return match.route if match is not None and match.route else "unmatched"


class PrometheusMiddleware:
    """Counts and times every request Django answers (sync and async alike)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def _observe(self, request, response, started: float) -> None:
        seconds = time.perf_counter() - started
        request_observe(settings.AITBC_SERVICE, request.method, route_of(request), response.status_code, seconds)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self._observe(request, response, started)
        return response

    async def __acall__(self, request):
        started = time.perf_counter()
        response = await self.get_response(request)
        self._observe(request, response, started)
        return response


async def asgi_observed(app: Callable, scope, receive, send, *, service: str, route: str) -> None:
    """Runs an ASGI app for one HTTP request and observes its status and duration."""
    started, status = time.perf_counter(), {"code": 500}

    async def sending(message):
        if message["type"] == "http.response.start":
            status["code"] = message["status"]
        await send(message)

    try:
        await app(scope, receive, sending)
    finally:
        request_observe(service, scope["method"], route, status["code"], time.perf_counter() - started)


# --- domain gauges, read at scrape time ---

# (service) -> {domain: a function yielding that domain's metric families}: what this service gauges. Monitoring
# provides it (each domain service gauges its own data; monitoring gauges the whole platform).
domain_gauges = Hook("kernel.domain_gauges")


class DomainCollector:
    """Domain gauges, read from the facades when Prometheus scrapes; a domain that fails says so in
    aitbc_scrape_error instead of failing the whole scrape."""

    def __init__(self, gauges: dict[str, Callable[[], Iterable]]):
        self.gauges = gauges

    def collect(self):
        errors = GaugeMetricFamily(
            "aitbc_scrape_error", "1 when a domain's gauges could not be read", labels=["domain"]
        )
        for domain, gauge in self.gauges.items():
            failed = 0
            try:
                yield from list(gauge())
            except Exception:
                log.exception("metrics: the %s gauges could not be read", domain)
                failed = 1
            errors.add_metric([domain], failed)
        if self.gauges:
            yield errors


class _ThisProcess:
    """The default registry (this process's counters) as one collector of the scrape's registry."""

    def collect(self):
        return REGISTRY.collect()


def metrics_registry(service: str) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DomainCollector(domain_gauges(service)))
    return registry


def operator_address(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in settings.AITBC_METRICS_ADDRESSES)


def metrics(request):
    """GET /metrics: Prometheus text exposition, for operators' addresses only (AITBC_METRICS_ADDRESSES);
    anyone else gets the 404 of a path that is not there."""
    if not operator_address(request.META.get("REMOTE_ADDR", "")):
        return JsonResponse({"detail": "not found", "code": "not_found"}, status=404)
    body = generate_latest(metrics_registry(settings.AITBC_SERVICE))
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
