"""Forwards one request to a service, streaming the body both ways."""

import json
import logging
import math
import time
import uuid

import httpx
from django.conf import settings

from gateway.breaker import CircuitBreaker
from gateway.routing import service_base_url

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


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"x-request-id" and 0 < len(value) <= 200:
            return value.decode("latin-1")
    return uuid.uuid4().hex


async def _send_json(send, status: int, body: dict, request_id: str, retry_after: float | None = None) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-request-id", request_id.encode("latin-1")),
    ]
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, math.ceil(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


KEY_CACHE_S = 5.0


def _live_principal(key: str):
    from aitbc_site.router import connections_release
    from apps.accounts.selectors import principal_for_key

    try:
        return principal_for_key(key)
    finally:
        connections_release()  # back to the pool: this is no Django request that would close it


_known_keys: dict[str, float] = {}  # key hash -> until when it is known to be live (this process)


async def key_refused(headers: list[tuple[bytes, bytes]]) -> dict | None:
    """Authentication at the edge: a request that carries a key must carry a live one (the service checks
    again; requests without a key go on, for the service to answer 401 or serve its public paths)."""
    from asgiref.sync import sync_to_async

    from apps.accounts.keys import api_key_hash

    values = {name.lower(): value.decode("latin-1") for name, value in headers}
    scheme, _, token = values.get(b"authorization", "").partition(" ")
    key = token.strip() if scheme.lower() == "bearer" else values.get(b"x-api-key", "")
    if not key:
        return None
    hashed = api_key_hash(key)
    if _known_keys.get(hashed, 0) > time.monotonic():
        return None
    if await sync_to_async(_live_principal)(key) is None:
        return {"detail": "unknown, expired or revoked API key", "code": "unauthenticated"}
    _known_keys[hashed] = time.monotonic() + KEY_CACHE_S
    return None


class ServiceProxy:
    def __init__(self):
        self._client: httpx.AsyncClient | None = None
        self.breaker = CircuitBreaker(settings.AITBC_GATEWAY_BREAKER_FAILURES, settings.AITBC_GATEWAY_BREAKER_OPEN_S)

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            timeout = httpx.Timeout(settings.AITBC_GATEWAY_TIMEOUT_S, connect=1.0)
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
            self._client = httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)
        return self._client

    async def __call__(self, scope, receive, send, service: str, path: str) -> None:
        request_id = request_id_of(scope["headers"])
        if (refused := await key_refused(scope["headers"])) is not None:  # first: a refused key never uses up
            return await _send_json(send, 401, refused, request_id)  # the breaker's one trial request
        wait = self.breaker.retry_after(service)
        if wait is not None:
            detail = f"the {service} service is failing; the gateway tries it again in {wait:.0f} s"
            body = {"detail": detail, "code": "circuit_open"}
            return await _send_json(send, 503, body, request_id, retry_after=wait)
        headers = [(k, v) for k, v in scope["headers"] if k.lower() not in HOP_BY_HOP and k.lower() != b"x-request-id"]
        headers += [(b"x-request-id", request_id.encode("latin-1")), (b"x-forwarded-prefix", f"/{service}".encode())]
        client_addr = scope.get("client")
        if client_addr:
            headers.append((b"x-forwarded-for", client_addr[0].encode()))
        url = service_base_url(service) + path
        if scope.get("query_string"):
            url += "?" + scope["query_string"].decode("latin-1")

        async def body():
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                more = message.get("more_body", False)
                if message.get("body"):
                    yield message["body"]

        has_body = any(k.lower() in (b"content-length", b"transfer-encoding") for k, _ in scope["headers"])
        timeout = httpx.Timeout(settings.AITBC_GATEWAY_TIMEOUTS[service], connect=1.0)
        content = body() if has_body else None
        request = self.client.build_request(scope["method"], url, headers=headers, content=content, timeout=timeout)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TimeoutException:
            self.breaker.failure(service)
            detail = f"the {service} service did not answer within {timeout.read:g} s"
            return await _send_json(send, 504, {"detail": detail, "code": "upstream_timeout"}, request_id)
        except httpx.TransportError as exc:
            self.breaker.failure(service)
            log.warning("gateway: %s is unreachable: %s", service, exc)
            detail = f"the {service} service is unavailable ({type(exc).__name__})"
            return await _send_json(send, 502, {"detail": detail, "code": "service_unavailable"}, request_id)
        self.breaker.success(service)
        try:
            out_headers = [
                (k, v) for k, v in response.headers.raw if k.lower() not in HOP_BY_HOP and k.lower() != b"x-request-id"
            ]
            out_headers.append((b"x-request-id", request_id.encode("latin-1")))
            await send({"type": "http.response.start", "status": response.status_code, "headers": out_headers})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()
