"""The gateway's proxy against services that are slow, down, or handed a bad key (real sockets)."""

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from gateway.breaker import CircuitBreaker
from gateway.proxy import ServiceProxy
from gateway.routing import service_route
from tests.processes import free_port_offset


class Slow(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the standard library's name
        time.sleep(2)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_service():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def through_gateway(path: str, headers=None) -> httpx.Response:
    proxy = ServiceProxy()

    async def app(scope, receive, send):
        return await proxy(scope, receive, send, *service_route(scope["path"]))

    async def call():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return await client.get(path, headers=headers or {})

    return asyncio.run(call())


def test_a_slow_service_gets_a_504_after_its_own_timeout(settings, slow_service):
    settings.AITBC_SERVICE_PORTS = {**settings.AITBC_SERVICE_PORTS, "hermes": slow_service}
    settings.AITBC_GATEWAY_TIMEOUTS = {**settings.AITBC_GATEWAY_TIMEOUTS, "hermes": 0.3}
    response = through_gateway("/hermes/health")
    assert response.status_code == 504
    assert response.json()["code"] == "upstream_timeout"
    assert "within 0.3 s" in response.json()["detail"]
    assert response.headers["x-request-id"]


def test_a_dead_service_trips_the_breaker_which_then_answers_503_at_once(settings):
    dead = 9 + free_port_offset([9], start=40000, step=17)
    settings.AITBC_SERVICE_PORTS = {**settings.AITBC_SERVICE_PORTS, "plugin": dead}
    settings.AITBC_GATEWAY_BREAKER_FAILURES = 2
    proxy = ServiceProxy()

    async def app(scope, receive, send):
        return await proxy(scope, receive, send, *service_route(scope["path"]))

    async def calls():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            return [await client.get("/plugin/health") for _ in range(3)]

    first, second, third = asyncio.run(calls())
    assert [first.status_code, second.status_code] == [502, 502]
    assert first.json()["code"] == "service_unavailable"
    assert third.status_code == 503
    assert third.json()["code"] == "circuit_open"
    assert int(third.headers["retry-after"]) >= 1


def test_the_breaker_lets_one_trial_through_after_its_pause_and_closes_on_success():
    now = [0.0]
    breaker = CircuitBreaker(failures_to_open=2, open_seconds=10, clock=lambda: now[0])
    breaker.failure("ai")
    assert breaker.retry_after("ai") is None
    breaker.failure("ai")
    assert breaker.retry_after("ai") == 10
    now[0] = 10.5
    assert breaker.retry_after("ai") is None  # the trial
    assert breaker.retry_after("ai") == 10  # everyone else waits for it
    breaker.success("ai")
    assert breaker.retry_after("ai") is None


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_the_gateway_refuses_an_unknown_key_itself(settings):
    dead = 9 + free_port_offset([9], start=41000, step=19)
    settings.AITBC_SERVICE_PORTS = {**settings.AITBC_SERVICE_PORTS, "ai": dead}
    refused = through_gateway("/ai/v1/jobs", headers={"Authorization": "Bearer aitbc_forged"})
    assert refused.status_code == 401  # answered at the edge: the (dead) service was never asked
    assert refused.json()["code"] == "unauthenticated"
    anonymous = through_gateway("/ai/v1/jobs")
    assert anonymous.status_code == 502  # no key: passed on, for the service to decide


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_a_refused_key_does_not_use_up_the_breaker_s_one_trial_request():
    now = [0.0]
    proxy = ServiceProxy()
    proxy.breaker = CircuitBreaker(failures_to_open=1, open_seconds=10, clock=lambda: now[0])
    proxy.breaker.failure("ai")
    now[0] = 10.5  # the pause is over: the next request to ai is the trial

    async def app(scope, receive, send):
        return await proxy(scope, receive, send, *service_route(scope["path"]))

    async def forged():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway") as client:
            return await client.get("/ai/v1/jobs", headers={"Authorization": "Bearer aitbc_forged"})

    assert asyncio.run(forged()).status_code == 401
    assert proxy.breaker.retry_after("ai") is None  # the trial is still there for a real request


def test_the_gateway_lists_every_service_openapi_document(client, settings):
    settings.ROOT_URLCONF = "aitbc_site.urls.gateway"
    index = client.get("/openapi").json()["services"]
    assert {row["service"] for row in index} == {"gpu", "marketplace", "trading", "governance", "ai", "monitoring",
                                                 "hermes", "plugin"}  # fmt: skip
    assert {"service": "ai", "openapi": "/ai/v1/openapi.json", "docs": "/ai/v1/docs"} in index
