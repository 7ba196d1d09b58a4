"""Forwards one request to a service, streaming the body both ways."""

import json
import logging
import uuid

import httpx
from django.conf import settings

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


async def _send_json(send, status: int, body: dict, request_id: str) -> None:
    payload = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-request-id", request_id.encode("latin-1")),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class ServiceProxy:
    def __init__(self):
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            timeout = httpx.Timeout(settings.AITBC_GATEWAY_TIMEOUT_S, connect=1.0)
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
            self._client = httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=False)
        return self._client

    async def __call__(self, scope, receive, send, service: str, path: str) -> None:
        request_id = request_id_of(scope["headers"])
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
        request = self.client.build_request(scope["method"], url, headers=headers, content=body() if has_body else None)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TimeoutException:
            detail = f"the {service} service did not answer in time"
            return await _send_json(send, 504, {"detail": detail, "code": "upstream_timeout"}, request_id)
        except httpx.TransportError as exc:
            log.warning("gateway: %s is unreachable: %s", service, exc)
            detail = f"the {service} service is unavailable ({type(exc).__name__})"
            return await _send_json(send, 502, {"detail": detail, "code": "service_unavailable"}, request_id)
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
