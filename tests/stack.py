"""The whole stack (`aitbc up`) on this test run's databases and broker, for integration tests."""

import json
import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from aitbc_site.domains import FLOWER_PORT, SERVICE_PORTS
from tests.processes import AITBC, Process, free_port_offset, http_ok, process_env, run_aitbc, wait_for


@dataclass
class Stack:
    up: Process
    env: dict
    home: Path
    urls: dict
    flower: str

    @property
    def gateway(self) -> str:
        return self.urls["gateway"]

    def ctl(self, *args) -> str:
        conf = self.home / "run" / "supervisord.conf"
        result = subprocess.run(
            [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(conf), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return result.stdout

    def pid(self, name: str) -> int:
        return int(self.ctl("pid", name).strip())

    def principal(self, role: str, name: str) -> dict:
        """{"principal_id", "key"} of a new principal, made with the CLI."""
        created = run_aitbc(["keys", "create", "--role", role, "--name", name, "--json"], self.env)
        assert created.returncode == 0, created.stderr
        return json.loads(created.stdout)

    def key(self, role: str, name: str) -> str:
        return self.principal(role, name)["key"]

    def aitbc(self, *args, key: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """A CLI command against this stack's gateway."""
        return run_aitbc([*args, "--url", self.gateway, "--key", key], self.env, timeout=timeout)

    def spawn(self, name: str, *args) -> Process:
        return Process([*AITBC, *args], self.env, self.home / f"{name}.log")


@contextmanager
def stack_running(**extra_env):
    """`aitbc up` on ports shifted clear of anything running; the test run's AITBC_HOME and secrets."""
    home = Path(os.environ["AITBC_HOME"])
    offset = free_port_offset([*SERVICE_PORTS.values(), FLOWER_PORT])
    env = process_env(home, AITBC_PORT_OFFSET=str(offset), **extra_env)
    up = Process([*AITBC, "up"], env, home / f"up-{offset}.log")
    urls = {name: f"http://127.0.0.1:{port + offset}" for name, port in SERVICE_PORTS.items()}
    try:
        wait_for(lambda: all(http_ok(f"{u}/health") for u in urls.values()), 120, "every /health to answer 200")
        yield Stack(up, env, home, urls, f"http://127.0.0.1:{FLOWER_PORT + offset}")
    finally:
        up.stop(60)


def gpu_host_env(stack: Stack) -> dict:
    """What a GPU host has: no database and no broker address (the platform hands a Celery miner its own)."""
    return {k: v for k, v in stack.env.items() if not k.startswith(("AITBC_DATABASE_URL", "AITBC_REDIS_URL"))}


def miner_started(stack: Stack, mode: str, unit_price: str, name: str):
    miner = stack.principal("miner", name)
    args = [*AITBC, "miner", mode, "--url", stack.gateway, "--key", miner["key"], "--unit-price", unit_price]
    process = Process(args, gpu_host_env(stack), stack.home / f"{name}.log")
    headers = {"Authorization": f"Bearer {miner['key']}"}

    def online():
        response = httpx.get(f"{stack.gateway}/gpu/v1/miners/me", headers=headers)
        return response.status_code == 200 and response.json()["online"] and response.json()

    view = wait_for(online, 60, f"{name} to register and heartbeat")
    return {**miner, "miner_id": view["miner_id"], "process": process}
