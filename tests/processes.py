"""Starting real AITBC processes from tests, and always stopping them."""

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.db import connections

from aitbc_site.domains import DATABASE_ALIASES

AITBC = [sys.executable, "-m", "aitbc_cli"]


def free_port_offset(ports, start: int | None = None, step: int = 1000) -> int:
    """An offset that makes every given port free on 127.0.0.1. Without `start`, the search begins at a
    random offset, so that two test runs on one machine rarely pick the same range at the same moment."""
    start = random.randrange(20000, 40000, step) if start is None else start
    for offset in [*range(start, 60000 - max(ports), step), *range(20000, start, step)]:
        if all(port_free(p + offset) for p in ports):
            return offset
    raise RuntimeError("no free port range")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def process_env(home: Path, *, embedded: bool = False, **extra: str) -> dict:
    """The environment of a child process: this test run's databases and broker (unless embedded)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITBC_")}
    env.update(AITBC_HOME=str(home), AITBC_SECRET_KEY=os.environ["AITBC_SECRET_KEY"], PYTHONUNBUFFERED="1")
    db = connections["default"].settings_dict
    if not embedded:
        assert Path(db["NAME"]).name.startswith("test_"), "mark the test django_db so that test databases exist"
    if not embedded and db["ENGINE"] == "django.db.backends.postgresql":
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        env["AITBC_DATABASE_URL"] = f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    elif not embedded:  # the test run's SQLite files
        for alias in DATABASE_ALIASES:
            env[f"AITBC_DATABASE_URL_{alias.upper()}"] = "sqlite:///" + connections[alias].settings_dict["NAME"]
    if not embedded and os.environ.get("AITBC_REDIS_URL"):
        env["AITBC_REDIS_URL"] = os.environ["AITBC_REDIS_URL"]
    env.update(extra)
    return env


def run_aitbc(args, env, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([*AITBC, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


class Process:
    """A child in its own process group, its output in a log file."""

    def __init__(self, args, env, log: Path):
        self.log = log
        self._out = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(args, env=env, stdout=self._out, stderr=subprocess.STDOUT, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, signum) -> None:
        if self.popen.poll() is None:
            os.kill(self.popen.pid, signum)

    def stop(self, timeout: float = 30) -> int | None:
        if self.popen.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)  # anything it left behind
        except ProcessLookupError:
            pass
        self._out.close()
        return self.popen.returncode


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def http_ok(url: str, **kwargs) -> httpx.Response | None:
    try:
        response = httpx.get(url, timeout=2, **kwargs)
    except httpx.HTTPError:
        return None
    return response if response.status_code == 200 else None
