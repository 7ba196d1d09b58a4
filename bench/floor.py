"""The request floor: an authenticated, database-backed GET against the framework's own floor, in one run.

What it measures
  The whole stack (`aitbc up`, as bench/jobs.py starts it) on PostgreSQL and Redis, and beside it
  bench/hello.py (Django and django-ninja alone: no middleware, no database) under the same granian setup
  (one process, ASGINL). wrk (Debian's package; it runs outside Python, so it takes little of the stack's CPU)
  sends each request for `--seconds` with `--connections` open connections, straight to the service's port:
    * GET /v1/hello on the hello app: the baseline;
    * GET /ai/v1/principals/me on the ai service: the key check and the middleware, no domain query;
    * GET /ai/v1/jobs/{id} on the ai service: a client's queued job, as a client polls it;
    * the same GET through the gateway.
  Each row prints requests/s, its ratio to the baseline, and wrk's latency p50 / p99.

Run from the repository root, with PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379:
    .venv/bin/python bench/floor.py [--seconds 8] [--connections 16]
Everything it starts is stopped, and its databases dropped.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from aitbc_site.domains import SERVICE_PORTS  # noqa: E402
from bench.jobs import PY, REDIS, drop_databases, key_create, stack_start, start, status_ok, stop, wait_for  # noqa: E402

HELLO = """from granian import Granian
from granian.constants import Interfaces
Granian("bench.hello:application", address="127.0.0.1", port={port}, interface=Interfaces.ASGINL, workers=1,
        log_access=False).serve()
"""
LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, seconds: float, connections: int, key: str | None = None) -> dict:
    headers = ["-H", f"Authorization: Bearer {key}"] if key else []
    ran = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--latency", *headers, url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    out = ran.stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = {p: round(float(v) * UNIT_MS[unit], 2) for p, v, unit in LATENCY.findall(out)}
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "requests_per_s": rate,
        "p50_p99_ms": [latency.get("50"), latency.get("99")],
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8, help="load per request")
    parser.add_argument("--connections", type=int, default=16, help="open connections")
    parser.add_argument("--db", default="aitbc_bench_floor")
    parser.add_argument("--redis-db", type=int, default=8)
    parser.add_argument("--offset", type=int, default=42000, help="AITBC_PORT_OFFSET")
    parser.add_argument("--out", help="also write the figures as JSON here")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    home = Path(tempfile.mkdtemp(prefix="aitbc-bench-floor-"))
    redis.Redis.from_url(f"{REDIS}/{args.redis_db}").flushdb()
    drop_databases(args.db)
    procs: list = []
    hello_port = SERVICE_PORTS["gateway"] + args.offset + 900
    try:
        print(f"logs in {home}", file=sys.stderr)
        env, gateway = stack_start(args, home, procs, AITBC_RATELIMIT_CLIENT="100000000/minute")
        procs.append(start([PY, "-c", HELLO.format(port=hello_port)], env, home / "hello.log", cwd=ROOT))
        hello = f"http://127.0.0.1:{hello_port}/v1/hello"
        wait_for(lambda: status_ok(hello), 60, hello)
        admin, client = key_create(env, "admin"), key_create(env, "client")
        with httpx.Client(base_url=gateway, timeout=60) as http:
            credit = {"principal_id": client["principal_id"], "amount": "1000"}
            admin_auth = {"Authorization": f"Bearer {admin['key']}"}
            assert http.post("/trading/v1/ledger/credits", json=credit, headers=admin_auth).status_code == 201
            body = {"type": "echo", "payload": {}, "max_price": "0.01", "ttl_seconds": 3600}
            job = http.post("/ai/v1/jobs", json=body, headers={"Authorization": f"Bearer {client['key']}"}).json()
        ai = f"http://127.0.0.1:{SERVICE_PORTS['ai'] + args.offset}"
        requests = {
            "GET /v1/hello (bare ninja, baseline)": (hello, None),
            "GET /ai/v1/principals/me (direct)": (f"{ai}/v1/principals/me", client["key"]),
            "GET /ai/v1/jobs/{id} (direct)": (f"{ai}/v1/jobs/{job['job_id']}", client["key"]),
            "GET /ai/v1/jobs/{id} (through the gateway)": (f"{gateway}/ai/v1/jobs/{job['job_id']}", client["key"]),
        }
        rows = {}
        for name, (url, key) in requests.items():
            wrk(url, 1, args.connections, key)  # warm-up: connections, caches
            rows[name] = wrk(url, args.seconds, args.connections, key)
            print(f"  {name}: {rows[name]}", file=sys.stderr)
    finally:
        for proc in reversed(procs):
            stop(proc)
        drop_databases(args.db)
        redis.Redis.from_url(f"{REDIS}/{args.redis_db}").flushdb()

    baseline = next(iter(rows.values()))["requests_per_s"]
    direct = rows["GET /ai/v1/jobs/{id} (direct)"]["requests_per_s"]
    print(f"wrk, {args.connections} connections, {args.seconds:.0f} s per request; one granian process each")
    print(f"  {'request':<46} {'req/s':>9} {'ratio':>6} {'p50 / p99 ms':>16}  non-2xx")
    for name, row in rows.items():
        latency = "{} / {}".format(*row["p50_p99_ms"])
        ratio = row["requests_per_s"] / baseline
        print(f"  {name:<46} {row['requests_per_s']:>9.0f} {ratio:>6.2f} {latency:>16}  {row['non_2xx']}")
    gateway_ratio = rows["GET /ai/v1/jobs/{id} (through the gateway)"]["requests_per_s"] / direct
    print(f"job GET / bare hello: {direct / baseline:.2f} (goal >= 0.5); through the gateway / direct: "
          f"{gateway_ratio:.2f} (goal >= 0.8)")  # fmt: skip
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}; wrk runs on the same machine")
    if args.out:
        Path(args.out).write_text(json.dumps({"rows": rows, "connections": args.connections}, indent=1))
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
