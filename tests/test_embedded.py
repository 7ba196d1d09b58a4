"""With nothing configured: SQLite files, the filesystem broker, and still separate worker processes."""

import json
import sqlite3
import subprocess
import sys

import httpx
import pytest

from tests.processes import AITBC, Process, free_port_offset, http_ok, process_env, run_aitbc, wait_for

pytestmark = pytest.mark.integration

SEND_PROBE = """
import json, os, uuid
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aitbc_site.settings")
django.setup()
from django.conf import settings
from django.utils import timezone
from apps.monitoring.tasks import worker_probe
assert settings.CELERY_BROKER_URL == "filesystem://", settings.CELERY_BROKER_URL
result = worker_probe.delay(str(uuid.uuid4()), timezone.now().isoformat()).get(timeout=60)
print(json.dumps({**result, "sender_pid": os.getpid()}))
"""


def test_embedded_mode_serves_and_runs_a_task_in_a_separate_worker(tmp_path):
    env = process_env(tmp_path, embedded=True)
    assert "AITBC_DATABASE_URL" not in env and "AITBC_REDIS_URL" not in env
    migrated = run_aitbc(["db", "migrate", "--quiet"], env)
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "monitoring.sqlite3").exists()

    port = 8101 + free_port_offset([8101], start=3000, step=11)
    worker = Process([*AITBC, "worker", "--concurrency", "1"], env, tmp_path / "worker.log")
    server = Process([*AITBC, "serve", "gpu", "--port", str(port)], env, tmp_path / "gpu.log")
    try:
        health = wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/health"), 60, "the embedded gpu service")
        assert health.json()["checks"] == {"database": "ok", "broker": "ok"}

        sent = subprocess.run(
            [sys.executable, "-c", SEND_PROBE], env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert sent.returncode == 0, sent.stderr + worker.output()
        result = json.loads(sent.stdout)
        assert result["pid"] not in (result["sender_pid"], worker.pid)

        with sqlite3.connect(tmp_path / "monitoring.sqlite3") as db:
            pids = {row[0] for row in db.execute("SELECT pid FROM monitoring_workerprobe")}
        assert result["pid"] in pids
        assert "monitoring.worker_probe" in worker.output()
        assert httpx.get(f"http://127.0.0.1:{port}/v1/principals/me").status_code == 401
    finally:
        server.stop()
        worker.stop()
