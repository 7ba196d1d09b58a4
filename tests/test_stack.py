"""`aitbc up` on this test run's databases and broker: every process, the gateway, restarts and stop."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from aitbc_site.domains import DOMAINS, SERVICE_PORTS
from tests.processes import http_ok, port_free, wait_for
from tests.stack import stack_running

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases="__all__", transaction=True)]
FLOWER_AUTH = ("ops", "flower-secret")


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    with stack_running(AITBC_FLOWER_BASIC_AUTH=":".join(FLOWER_AUTH)) as running:
        yield running


def test_up_prints_where_every_process_listens(stack):
    output = stack.up.output()
    for name, url in stack.urls.items():
        assert re.search(rf"^{name}\s+{re.escape(url)}/", output, re.MULTILINE), name
    assert stack.flower in output


def test_every_service_answers_health_with_its_own_name(stack):
    for name, url in stack.urls.items():
        body = httpx.get(f"{url}/health").json()
        assert body["service"] == name
        assert body["checks"]["database"] == "ok"
        assert body["checks"]["broker"] == "ok"


def test_the_gateway_health_includes_every_service(stack):
    body = httpx.get(f"{stack.urls['gateway']}/health").json()
    assert body["status"] == "ok"
    assert body["services"] == dict.fromkeys(DOMAINS, "ok")


def _chunks(size: int, total: int, sent: list):
    for _ in range(total // size):
        sent.append(size)
        yield b"x" * size


@pytest.mark.parametrize("where", ["gateway", "ai"])
def test_an_oversized_anonymous_body_is_a_413_before_it_is_read_at_the_gateway_and_at_a_service(stack, where):
    url = f"{stack.urls['gateway']}/ai/v1/jobs" if where == "gateway" else f"{stack.urls['ai']}/v1/jobs"
    target = httpx.URL(url)
    with socket.create_connection((target.host, target.port), timeout=30) as raw:  # says 50 MiB, sends none
        raw.sendall(f"POST {target.path} HTTP/1.1\r\nHost: x\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n".encode())
        assert raw.recv(4096).split(b"\r\n", 1)[0].split(b" ")[1] == b"413"
    sent: list[int] = []
    try:  # 40 MiB in 64 KiB chunks, no Content-Length: refused once it passes 1 MiB, long before the end
        streamed = httpx.post(url, content=_chunks(64 * 1024, 40 * 1024 * 1024, sent), timeout=30)
        assert (streamed.status_code, streamed.json()["code"]) == (413, "payload_too_large")
    except httpx.TransportError:
        pass  # the server answered and closed while the client was still sending: refused all the same
    assert sum(sent) < 40 * 1024 * 1024


def test_worker_runs_tasks_sent_through_the_broker(stack):
    sent = subprocess.run(
        [sys.executable, "-c", PROBE_SCRIPT], env=stack.env, capture_output=True, text=True, timeout=90, check=False
    )
    assert sent.returncode == 0, sent.stderr
    result = json.loads(sent.stdout)
    assert result["pid"] != result["sender_pid"]
    assert result["pid"] != os.getpid()


def test_beat_and_worker_and_flower_are_running(stack):
    status = stack.ctl("status")
    for name in ("worker", "beat", "flower", *SERVICE_PORTS):
        assert re.search(rf"^{name}\s+RUNNING", status, re.MULTILINE), status


def test_flower_is_behind_basic_auth(stack):
    assert httpx.get(stack.flower).status_code == 401
    assert httpx.get(stack.flower, auth=FLOWER_AUTH).status_code == 200


def test_the_gateway_routes_on_a_segment_boundary_and_strips_the_prefix(stack):
    gateway = stack.urls["gateway"]
    for service in DOMAINS:
        assert httpx.get(f"{gateway}/{service}/health").json()["service"] == service
    stranger = httpx.get(f"{gateway}/aitbc/health")
    assert stranger.status_code == 404
    assert stranger.json()["code"] == "not_found"

    key = stack.key("client", "via-gateway")
    me = httpx.get(f"{gateway}/gpu/v1/principals/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert me.json()["name"] == "via-gateway"


def test_the_gateway_passes_on_and_echoes_the_request_id(stack):
    gateway = stack.urls["gateway"]
    given = httpx.get(f"{gateway}/ai/health", headers={"X-Request-ID": "trace-123"})
    assert given.headers["x-request-id"] == "trace-123"
    made = httpx.get(f"{gateway}/ai/health")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])


def test_the_gateway_serves_each_service_openapi_and_docs(stack):
    gateway = stack.urls["gateway"]
    document = httpx.get(f"{gateway}/trading/v1/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "AITBC trading"
    docs = httpx.get(f"{gateway}/trading/v1/docs")
    assert docs.status_code == 200
    assert "/trading/v1/openapi.json" in docs.text


def test_the_gateway_serves_the_admin_with_principals_to_a_superuser(stack):
    env = {**stack.env, "DJANGO_SUPERUSER_USERNAME": "root", "DJANGO_SUPERUSER_PASSWORD": "pw-for-tests-only"}
    env["DJANGO_SUPERUSER_EMAIL"] = "root@example.com"
    created = subprocess.run(
        [sys.executable, "manage.py", "createsuperuser", "--noinput"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    stack.key("miner", "rig-in-admin")

    with httpx.Client(base_url=stack.urls["gateway"], follow_redirects=True) as browser:
        login = browser.get("/admin/login/")
        assert "AITBC administration" in login.text
        token = browser.cookies["csrftoken"]
        form = {"username": "root", "password": "pw-for-tests-only", "csrfmiddlewaretoken": token}
        browser.post("/admin/login/?next=/admin/", data=form, headers={"Referer": f"{stack.urls['gateway']}/admin/"})
        principals = browser.get("/admin/accounts/principal/")
        assert principals.status_code == 200
        assert "rig-in-admin" in principals.text
        assert browser.get("/admin/accounts/apikey/").status_code == 200


def test_miners_waiting_in_long_polls_do_not_hold_the_connections_everyone_else_needs(stack):
    """More miners long-poll the gpu service than its database pools hold connections; meanwhile another
    request to it is answered, while every poll is still waiting."""
    waiting = int(stack.env.get("AITBC_DB_POOL_MAX", "4")) + 2
    gpu = stack.urls["gpu"]
    keys = [stack.key("miner", f"long-poller-{i}") for i in range(waiting + 1)]
    auth = lambda key: {"Authorization": f"Bearer {key}"}  # noqa: E731
    for key in keys:  # priced above any job, so that no poll claims one
        registered = httpx.post(f"{gpu}/v1/miners/register", json={"unit_price": "100000"}, headers=auth(key))
        assert registered.status_code == 200, registered.text
    with ThreadPoolExecutor(waiting) as pool:
        body = {"max_wait_seconds": 15}
        polls = [
            pool.submit(httpx.post, f"{gpu}/v1/miners/poll", json=body, headers=auth(key), timeout=60)
            for key in keys[1:]
        ]
        time.sleep(2)  # for the polls to reach the service and start waiting
        other = httpx.get(f"{gpu}/v1/miners/me", headers=auth(keys[0]), timeout=60)
        still_waiting = sum(not poll.done() for poll in polls)
        answered = [poll.result().status_code for poll in polls]
    assert other.status_code == 200, other.text
    assert still_waiting == waiting
    assert answered == [204] * waiting


def test_a_dead_service_costs_a_fast_clear_error_at_the_gateway(stack):
    stack.ctl("stop", "marketplace")
    try:
        response = httpx.get(f"{stack.urls['gateway']}/marketplace/health", timeout=10)
        assert response.status_code == 502
        assert response.json()["code"] == "service_unavailable"
        assert "marketplace" in response.json()["detail"]
        health = httpx.get(f"{stack.urls['gateway']}/health")
        assert health.status_code == 503
        assert "marketplace" in health.json()["detail"]
    finally:
        stack.ctl("start", "marketplace")
    wait_for(lambda: http_ok(f"{stack.urls['marketplace']}/health"), 30, "marketplace back")


def test_a_killed_child_is_reported_and_restarted(stack):
    before = stack.pid("gpu")
    os.kill(before, signal.SIGKILL)
    wait_for(lambda: "exited: gpu (terminated by SIGKILL" in stack.up.output(), 30, "the death to be reported")
    wait_for(lambda: http_ok(f"{stack.urls['gpu']}/health"), 60, "gpu to answer again")
    assert stack.pid("gpu") != before


def test_sigterm_stops_every_process(stack):
    pids = [int(p) for p in stack.ctl("pid", "all").split() if p.isdigit() and int(p) > 0]
    assert len(pids) == len(SERVICE_PORTS) + 3
    stack.up.signal(signal.SIGTERM)
    assert stack.up.popen.wait(60) == 0
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    for url in stack.urls.values():
        assert port_free(int(url.rsplit(":", 1)[1]))


PROBE_SCRIPT = """
import json, os, uuid
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aitbc_site.settings")
django.setup()
from django.utils import timezone
from apps.monitoring.tasks import worker_probe
result = worker_probe.delay(str(uuid.uuid4()), timezone.now().isoformat()).get(timeout=60)
print(json.dumps({**result, "sender_pid": os.getpid()}))
"""
