"""A real gateway ASGI application (gateway.app, as gateway.asgi builds it) in front of a fake service on a
real socket that records what reached it."""

import asyncio
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from django.core.asgi import get_asgi_application

from aitbc_site.domains import DOMAINS
from apps.accounts import selectors
from gateway.app import gateway_application
from gateway.proxy import ServiceProxy


@dataclass
class Seen:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]


@dataclass
class Upstream:
    """What the fake service saw: `started` every request line, `requests` every request it read whole.
    It answers `status`; a request with an `X-Hold` header waits for `release` first."""

    port: int = 0
    status: int = 200
    started: list[str] = field(default_factory=list)
    requests: list[Seen] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class Recorder(BaseHTTPRequestHandler):
    def __getattr__(self, name: str):
        if name.startswith("do_"):  # any method, made-up ones too
            return self.answer
        raise AttributeError(name)

    def body(self) -> bytes | None:
        """The whole body, or None when the sender broke off before its end."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size_line = self.rfile.readline()
                if not size_line.strip():
                    return None
                size = int(size_line.split(b";")[0], 16)
                chunk = self.rfile.read(size + 2)
                if len(chunk) < size + 2:
                    return None
                if size == 0:
                    return b"".join(chunks)
                chunks.append(chunk[:size])
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        return body if len(body) == length else None

    def answer(self):
        upstream: Upstream = self.server.upstream
        upstream.started.append(self.path)
        body = self.body()
        if body is None:
            return
        upstream.requests.append(Seen(self.command, self.path, list(self.headers.items()), body))
        if self.headers.get("X-Hold"):
            upstream.release.wait(timeout=30)
        payload = json.dumps({"path": self.path}).encode()
        self.send_response(upstream.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream(settings):
    """A fake service that every service name of the gateway points at."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    server.upstream = Upstream(port=server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.AITBC_SERVICE_PORTS = {**settings.AITBC_SERVICE_PORTS, **{name: server.upstream.port for name in DOMAINS}}
    yield server.upstream
    server.upstream.release.set()
    server.shutdown()
    server.server_close()


class Gateway:
    def __init__(self):
        self.proxy = ServiceProxy()
        self.app = gateway_application(get_asgi_application(), self.proxy)

    def client(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(address, 50000))
        return httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=30)

    async def request(self, method: str, path: str, *, address: str = "127.0.0.1", **kwargs) -> httpx.Response:
        async with self.client(address) as client:
            return await client.request(method, path, **kwargs)

    async def raw(self, path: str, raw_path: bytes, query_string: bytes = b"") -> tuple[int, dict]:
        """One request exactly as given, bytes an HTTP client would have escaped included."""
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": raw_path, "query_string": query_string, "headers": [], "root_path": "",
            "client": ("127.0.0.1", 50000), "server": ("gateway", 80),
        }  # fmt: skip
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            sent.append(message)

        await self.app(scope, receive, send)
        return sent[0]["status"], json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


@pytest.fixture
def through_gateway(upstream):
    """through_gateway(scenario): runs `await scenario(gateway)` against a gateway made with the settings of
    that moment, and closes it afterwards."""

    def run(scenario):
        gateway = Gateway()

        async def main():
            try:
                return await scenario(gateway)
            finally:
                await gateway.proxy.aclose()

        return asyncio.run(main())

    return run


@pytest.fixture
def key_lookups(monkeypatch):
    """The keys the gateway looked up in the database, in order."""
    looked_up: list[str] = []
    real = selectors.principal_for_key

    def counted(key):
        looked_up.append(key)
        return real(key)

    monkeypatch.setattr(selectors, "principal_for_key", counted)
    return looked_up
