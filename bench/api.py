"""API latency and ledger transfers per second through the gateway, against the seed's targets.

What it measures
  The whole stack (`aitbc up`) on PostgreSQL and Redis, as bench/jobs.py starts it. For each request below,
  `--concurrency` clients send it back to back for `--seconds`, through the gateway, with a client key:
  requests/s and latency p50 / p95 / p99. The baseline, measured in the same run, is the cheapest
  authenticated request (`GET /ai/v1/principals/me`: the gateway hop, the key check, no domain query);
  each row's throughput is also given as a ratio to it.
  Money moved is checked afterwards: the payee received exactly what the transfers answered 201 moved, and
  the ledger's own check (every transaction balanced, every account equal to its entries) passes.

  The seed document's targets for its beta: API p95 <= 200 ms (100 nice to have) and >= 100 transactions
  per second (500 nice to have). A transfer here is one ledger transaction: two balanced entries, both
  accounts locked, an Idempotency-Key stored.

  It also prints the most PostgreSQL connections the stack held, and any 5xx: `--server-workers` and
  `--pool-max` (AITBC_SERVER_WORKERS, AITBC_DB_POOL_MAX) show how each trades throughput for connections.

Run from the repository root, with PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379:
    .venv/bin/python bench/api.py [--seconds 8] [--concurrency 16] [--server-workers 1] [--pool-max 4]
Everything it starts is stopped, and its databases dropped.
"""

import argparse
import asyncio
import itertools
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.jobs import PG, REDIS, drop_databases, key_create, pct, stack_start, stop  # noqa: E402

TARGET_P95_MS, TARGET_TPS = 200, 100
AMOUNT = Decimal("0.0001")


@contextmanager
def connections_sampled(db: str):
    """The most PostgreSQL connections the stack held at once (sampled every 0.25 s): {"peak": n}."""
    peak, done = {"peak": 0}, threading.Event()
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s OR datname LIKE %s"

    def sample():
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            while not done.wait(0.25):
                peak["peak"] = max(peak["peak"], conn.execute(query, (db, f"{db}\\_%")).fetchone()[0])

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join(5)


async def load(http: httpx.AsyncClient, request, seconds: float, concurrency: int) -> dict:
    """`request(http)` from `concurrency` loops for `seconds`: requests/s and latency percentiles."""
    latencies, statuses, deadline = [], {}, time.monotonic() + seconds

    async def loop():
        while time.monotonic() < deadline:
            t0 = time.perf_counter()
            response = await request(http)
            latencies.append(time.perf_counter() - t0)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    t0 = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    return {
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_p95_p99_ms": [pct(latencies, 50), pct(latencies, 95), pct(latencies, 99)],
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


def requests(job_id: str, payee: str) -> dict:
    def post(path, body):
        return lambda http: http.post(path, json=body(), headers={"Idempotency-Key": str(uuid.uuid4())})

    job = {"type": "echo", "payload": {"x": 1}, "max_price": "0.01", "ttl_seconds": 600}
    submit, turns = post("/ai/v1/jobs", lambda: job), itertools.count()
    return {
        "GET /ai/v1/principals/me (baseline)": lambda http: http.get("/ai/v1/principals/me"),
        "GET /ai/v1/jobs/{id}": lambda http: http.get(f"/ai/v1/jobs/{job_id}"),
        "GET /ai/v1/jobs?limit=20": lambda http: http.get("/ai/v1/jobs", params={"limit": 20}),
        "GET /trading/v1/accounts/me": lambda http: http.get("/trading/v1/accounts/me"),
        "GET /marketplace/v1/orderbook": lambda http: http.get("/marketplace/v1/orderbook"),
        "POST /trading/v1/transfers": post(
            "/trading/v1/transfers", lambda: {"to_principal_id": payee, "amount": str(AMOUNT)}
        ),
        "POST /ai/v1/jobs": submit,
        # reads and writes at once, touching the ai, gpu and trading databases in different orders
        "GET /ai/v1/jobs/{id} + POST /ai/v1/jobs": lambda http: (
            submit(http) if next(turns) % 2 else http.get(f"/ai/v1/jobs/{job_id}")
        ),
    }


async def measure(gateway: str, keys: dict, seconds: float, concurrency: int) -> dict:
    auth = lambda key: {"Authorization": f"Bearer {key}"}  # noqa: E731
    limits = httpx.Limits(max_connections=concurrency)
    async with (
        httpx.AsyncClient(base_url=gateway, headers=auth(keys["admin"]["key"]), timeout=60) as admin,
        httpx.AsyncClient(base_url=gateway, headers=auth(keys["client"]["key"]), timeout=60, limits=limits) as http,
    ):
        credit = {"principal_id": keys["client"]["principal_id"], "amount": "1000000"}
        credited = await admin.post("/trading/v1/ledger/credits", json=credit)
        assert credited.status_code == 201, credited.text
        job = await http.post("/ai/v1/jobs", json={"type": "echo", "payload": {}, "max_price": "0.01"})
        assert job.status_code == 201, job.text
        rows, accepted = {}, {}
        for name, request in requests(job.json()["job_id"], keys["payee"]["principal_id"]).items():
            warm = await load(http, request, 1, concurrency)  # warm-up: connections, caches
            rows[name] = await load(http, request, seconds, concurrency)
            accepted[name] = sum(r["statuses"].get("201", 0) for r in (warm, rows[name]))
            print(f"  {name}: {rows[name]}", file=sys.stderr)
        payee = httpx.AsyncClient(base_url=gateway, headers=auth(keys["payee"]["key"]), timeout=60)
        async with payee:
            received = Decimal((await payee.get("/trading/v1/accounts/me")).json()["available"])
        check = (await admin.get("/trading/v1/ledger/check")).json()
    return {"rows": rows, "accepted": accepted, "received": received, "ledger_check": check}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8, help="load per request type")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients")
    parser.add_argument("--server-workers", type=int, default=1, help="AITBC_SERVER_WORKERS")
    parser.add_argument("--pool-max", type=int, default=4, help="AITBC_DB_POOL_MAX")
    parser.add_argument("--db", default="aitbc_bench_api")
    parser.add_argument("--redis-db", type=int, default=7)
    parser.add_argument("--offset", type=int, default=41000, help="AITBC_PORT_OFFSET")
    parser.add_argument("--out", help="also write the figures as JSON here")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="aitbc-bench-api-"))
    redis.Redis.from_url(f"{REDIS}/{args.redis_db}").flushdb()
    drop_databases(args.db)
    procs = []
    try:
        print(f"logs in {home}", file=sys.stderr)
        # the rate limit would answer 429 long before the stack is loaded: lifted for the bench
        settings = {"AITBC_SERVER_WORKERS": str(args.server_workers), "AITBC_DB_POOL_MAX": str(args.pool_max)}
        env, gateway = stack_start(args, home, procs, AITBC_RATELIMIT_CLIENT="10000000/minute", **settings)
        keys = {role: key_create(env, role if role != "payee" else "client") for role in ("admin", "client", "payee")}
        with connections_sampled(args.db) as peak:
            result = asyncio.run(measure(gateway, keys, args.seconds, args.concurrency))
    finally:
        for proc in reversed(procs):
            stop(proc)
        drop_databases(args.db)
        redis.Redis.from_url(f"{REDIS}/{args.redis_db}").flushdb()

    rows = result["rows"]
    baseline = next(iter(rows.values()))["requests_per_s"]
    transfers = rows["POST /trading/v1/transfers"]
    moved = result["accepted"]["POST /trading/v1/transfers"] * AMOUNT  # the warm-up's transfers too
    print(f"{args.concurrency} concurrent clients, {args.seconds:.0f} s per request, through the gateway; "
          f"{args.server_workers} server process(es) per service, database pools of {args.pool_max}")  # fmt: skip
    print(f"  {'request':<42} {'req/s':>8} {'ratio':>6} {'p50 / p95 / p99 ms':>24}  statuses")
    for name, row in rows.items():
        ratio = row["requests_per_s"] / baseline
        latency = "{} / {} / {}".format(*row["p50_p95_p99_ms"])
        print(f"  {name:<42} {row['requests_per_s']:>8} {ratio:>6.2f} {latency:>24}  {row['statuses']}")
    worst = max(row["p50_p95_p99_ms"][1] for row in rows.values())
    print(f"seed targets: API p95 <= {TARGET_P95_MS} ms (worst here {worst} ms); "
          f">= {TARGET_TPS} transactions/s (transfers here {transfers['requests_per_s']}/s)")  # fmt: skip
    print(f"money: {moved} moved by the 201s, {result['received']} received by the payee; "
          f"ledger check: {result['ledger_check']}")  # fmt: skip
    failed = sum(n for row in rows.values() for status, n in row["statuses"].items() if status >= "500")
    print(f"server errors (5xx): {failed}")
    print(f"PostgreSQL connections held by the stack at most: {peak['peak']} (max_connections is usually 100)")
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}; the stack and this load generator share it")
    figures = {
        "rows": rows,
        "concurrency": args.concurrency,
        "server_workers": args.server_workers,
        "pool_max": args.pool_max,
        "peak_postgres_connections": peak["peak"],
        "seconds": args.seconds,
        "money_moved": str(moved),
        "money_received": str(result["received"]),
        "ledger_check": result["ledger_check"],
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }
    if args.out:
        Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
    shutil.rmtree(home, ignore_errors=True)
    if moved != result["received"]:
        raise SystemExit("the payee did not receive exactly what the accepted transfers moved")


if __name__ == "__main__":
    main()
