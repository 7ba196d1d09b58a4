"""Health checks for real: the status code and the measured time; a 5xx, a timeout or a refused
connection is down with its error, never up."""

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.monitoring.checks import services_check
from tests.processes import free_port_offset


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/slow":
            time.sleep(1.5)
        status = {"/ok": 200, "/broken": 503, "/crash": 500, "/slow": 200}[self.path]
        body = {"/broken": {"detail": "database: error: connection refused", "code": "unhealthy"}}.get(self.path, {})
        payload = json.dumps(body).encode() if body else b"internal error"
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def checked(urls: dict, timeout: float = 0.5) -> dict:
    return {check.name: check for check in asyncio.run(services_check(urls, timeout=timeout))}


def test_a_200_is_up_with_its_measured_latency(server):
    check = checked({"ok": f"{server}/ok"})["ok"]
    assert (check.status, check.status_code, check.error) == ("up", 200, None)
    assert check.latency_ms > 0


def test_a_5xx_is_down_with_the_service_own_reason(server):
    checks = checked({"broken": f"{server}/broken", "crash": f"{server}/crash"})
    assert (checks["broken"].status, checks["broken"].status_code) == ("down", 503)
    assert checks["broken"].error == "HTTP 503: database: error: connection refused"
    assert (checks["crash"].status, checks["crash"].error) == ("down", "HTTP 500")


def test_a_timeout_is_down_and_says_how_long_it_waited(server):
    check = checked({"slow": f"{server}/slow"}, timeout=0.3)["slow"]
    assert (check.status, check.status_code) == ("down", None)
    assert check.error == "timeout: no answer within 0.3 s"
    assert check.latency_ms >= 300


def test_a_refused_connection_is_down():
    port = 1 + free_port_offset([0], start=41000, step=7)
    check = checked({"gone": f"http://127.0.0.1:{port}/health"})["gone"]
    assert (check.status, check.status_code) == ("down", None)
    assert check.error.startswith("connection refused")


def test_every_check_runs_at_once(server):
    started = time.perf_counter()
    checks = checked({f"slow-{i}": f"{server}/slow" for i in range(4)}, timeout=2.5)
    assert {c.status for c in checks.values()} == {"up"}
    assert time.perf_counter() - started < 4 * 1.5
