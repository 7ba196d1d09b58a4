"""Forwards one request to a service, streaming the body both ways.

Cheap refusals come first, before any work for the request: a path that is not the public's (404), a
declared body over the limit (413), an address over its rate (429, for requests without a known live key),
then the key check (401) and the breaker (503). A chunked body is counted while it streams and refused
(413) as soon as it passes the limit; the service's half-sent request is then cut off."""

import json
import logging
import math

import httpx
from django.conf import settings
from django.db import DatabaseError

from aitbc_site import bodies
from gateway import inbound, routing
from gateway.breaker import CircuitBreaker
from gateway.keys import KeyChecks, api_key_of
from gateway.pools import UpstreamPools
from gateway.ratelimit import AddressBuckets

log = logging.getLogger(__name__)

# Headers that describe one hop and must not be forwarded (RFC 9110, 7.6.1).
HOP_BY_HOP = frozenset(
    [
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    ]
)
# Headers the gateway sets itself: a client's own are dropped, never passed on as if the gateway said so.
GATEWAY_SET = frozenset([b"x-request-id", b"x-forwarded-prefix", b"x-forwarded-for", b"x-real-ip", b"forwarded"])
NOT_FORWARDED = HOP_BY_HOP | GATEWAY_SET


async def json_send(send, status: int, body: dict, request_id: str, retry_after: float | None = None) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-request-id", request_id.encode("ascii")),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


Answer = tuple[int, dict, float | None]  # the gateway's own answer: status, JSON body, Retry-After seconds


def _too_large(limit: int) -> dict:
    return {"detail": f"the request body is larger than {limit} bytes", "code": "payload_too_large"}


class ServiceProxy:
    def __init__(self):
        self.breaker = CircuitBreaker(settings.AITBC_GATEWAY_BREAKER_FAILURES, settings.AITBC_GATEWAY_BREAKER_OPEN_S)
        self.pools = UpstreamPools()
        self.keys = KeyChecks(
            live_s=settings.AITBC_GATEWAY_KEY_CACHE_S,
            unknown_s=settings.AITBC_GATEWAY_UNKNOWN_KEY_CACHE_S,
            size=settings.AITBC_GATEWAY_KEY_CACHE_SIZE,
            threads=settings.AITBC_GATEWAY_KEY_CHECK_THREADS,
        )
        self.anonymous = AddressBuckets(settings.AITBC_RATELIMIT_ANONYMOUS)
        self.proxies = inbound.networks_of(settings.AITBC_GATEWAY_TRUSTED_PROXIES)
        self.body_limit: int | None = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    async def aclose(self) -> None:
        await self.pools.aclose()
        self.keys.close()

    def _edge_refusal(self, scope, path: str) -> Answer | None:
        """What needs nothing but the request line and headers: a path not the public's, a declared body too large."""
        if routing.operator_only(path):
            return 404, {"detail": "not found", "code": "not_found"}, None
        try:
            length = bodies.declared_length(scope["headers"])
        except ValueError as exc:
            return 400, {"detail": str(exc), "code": "bad_request"}, None
        if self.body_limit is not None and length is not None and length > self.body_limit:
            return 413, _too_large(self.body_limit), None
        return None

    async def _caller_refusal(self, scope, chain: list[str]) -> Answer | None:
        """The address's rate, for anonymous requests and keys still to look up; then the key itself."""
        key = api_key_of(scope["headers"])
        if key is not None and self.keys.known_live(key):
            return None  # limited per principal, by the service
        address = inbound.address_bucket(inbound.client_address(chain, self.proxies))
        if (wait := self.anonymous.take(address)) > 0:
            detail = f"too many requests from this address without a live key ({self.anonymous.rate_text})"
            return 429, {"detail": detail, "code": "rate_limited"}, wait
        if key is None:
            return None
        try:
            live = await self.keys.is_live(key)
        except DatabaseError as exc:  # the key cannot be checked now; the service (not blamed) is never called
            log.error("gateway: key check failed: %s", exc)
            detail = "the gateway cannot check keys right now; try again"
            return 503, {"detail": detail, "code": "database_unavailable"}, 1
        if not live:
            return 401, {"detail": "unknown, expired or revoked API key", "code": "unauthenticated"}, None
        self.anonymous.give_back(address)  # a live key does not spend its address's anonymous rate
        return None

    async def _refusal(self, scope, service: str, path: str, chain: list[str]) -> Answer | None:
        """A request answered at the edge, cheapest check first; the breaker last, so that a request refused
        for its own sake never uses up the one trial request of an open breaker."""
        if (refused := self._edge_refusal(scope, path)) is not None:
            return refused
        if (refused := await self._caller_refusal(scope, chain)) is not None:
            return refused
        wait = self.breaker.retry_after(service)
        if wait is not None:
            detail = f"the {service} service is failing; the gateway tries it again in {wait:.0f} s"
            return 503, {"detail": detail, "code": "circuit_open"}, wait
        return None

    def _request(
        self, client: httpx.AsyncClient, scope, receive, service: str, path: str, chain: list[str], request_id: str
    ) -> httpx.Request:
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in NOT_FORWARDED]
        headers += [
            (b"x-request-id", request_id.encode("ascii")),
            (b"x-forwarded-prefix", f"/{service}".encode()),
            (b"x-forwarded-for", ", ".join(chain).encode("latin-1")),
        ]
        url = routing.service_base_url(service) + path
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("ascii").replace("#", "%23")
        has_body = any(k.lower() in (b"content-length", b"transfer-encoding") for k, _ in scope["headers"])
        content = bodies.body_chunks(receive, self.body_limit) if has_body else None
        return client.build_request(
            scope["method"], url, headers=headers, content=content, timeout=self.pools.timeout(service)
        )

    async def __call__(self, scope, receive, send, service: str, path: str) -> None:
        request_id = inbound.request_id_of(scope["headers"])
        path = routing.upstream_path(path)
        chain = inbound.forwarded_chain(scope, self.proxies)
        if (refused := await self._refusal(scope, service, path, chain)) is not None:
            status, body, retry_after = refused
            return await json_send(send, status, body, request_id, retry_after=retry_after)
        trial = self.breaker.in_trial(service)
        client = self.pools.client(service, long_poll=routing.long_poll(service, path))
        try:
            request = self._request(client, scope, receive, service, path, chain, request_id)
        except httpx.InvalidURL as exc:  # what target_refusal lets through is a valid URL; this is a last line
            if trial:
                self.breaker.trial_unused(service)
            return await json_send(send, 400, {"detail": str(exc), "code": "bad_request"}, request_id)
        answer = await self._send_upstream(client, request, service, trial)
        if isinstance(answer, tuple):
            status, body, retry_after = answer
            return await json_send(send, status, body, request_id, retry_after=retry_after)
        if answer is not None:
            await self._stream_back(answer, send, request_id)

    async def _send_upstream(
        self, client: httpx.AsyncClient, request: httpx.Request, service: str, trial: bool
    ) -> httpx.Response | Answer | None:
        """The service's response, or (status, body, retry after) of the gateway's own answer, or None when the
        client has gone. Only the service's failures count against it in the breaker."""
        try:
            response = await client.send(request, stream=True)
        except (httpx.PoolTimeout, bodies.BodyTooLarge, bodies.ClientGone) as exc:
            if trial:
                self.breaker.trial_unused(service)  # never reached the service: no verdict on it
            if isinstance(exc, bodies.BodyTooLarge):
                return 413, _too_large(self.body_limit or 0), None
            if isinstance(exc, bodies.ClientGone):
                return None
            detail = f"the gateway has no free connection to the {service} service; try again shortly"
            return 503, {"detail": detail, "code": "gateway_busy"}, 1.0
        except (httpx.ReadTimeout, httpx.WriteTimeout):
            self.breaker.failure(service)
            detail = f"the {service} service did not answer within {settings.AITBC_GATEWAY_TIMEOUTS[service]:g} s"
            return 504, {"detail": detail, "code": "upstream_timeout"}, None
        except httpx.TransportError as exc:  # it cannot be reached (connect errors and timeouts) or broke off
            self.breaker.failure(service)
            log.warning("gateway: %s is unreachable: %s", service, exc)
            detail = f"the {service} service is unavailable ({type(exc).__name__})"
            return 502, {"detail": detail, "code": "service_unavailable"}, None
        if response.status_code >= 500:
            self.breaker.failure(service)
        else:
            self.breaker.success(service)
        return response

    @staticmethod
    async def _stream_back(response: httpx.Response, send, request_id: str) -> None:
        try:
            out_headers = [
                (k, v) for k, v in response.headers.raw if k.lower() not in HOP_BY_HOP and k.lower() != b"x-request-id"
            ]
            out_headers.append((b"x-request-id", request_id.encode("ascii")))
            await send({"type": "http.response.start", "status": response.status_code, "headers": out_headers})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()
