"""End-to-end AITBC echo jobs against a bare Celery no-op, measured in one run on one machine.

What it measures
  * Baseline: a minimal Celery app (written to a temp dir) with one `-P solo -c 1` worker, broker and
    results on Redis db `--celery-db`. N no-op tasks are sent, then every result is awaited: tasks/s
    end to end. Then 100 single tasks one at a time: send->start (the task returns time.time()) and
    the delay().get() round trip, p50/p99. It runs first, before the stack's processes exist.
  * AITBC: the whole stack (`aitbc up`) on PostgreSQL database `--db` (and `<db>_<domain>`) and Redis db
    `--redis-db`, under a fresh AITBC_HOME and port offset, with one `aitbc miner worker` (Celery GPU
    worker, concurrency 4). After one warm-up job, N echo jobs are submitted through the gateway by a
    few concurrent submitters; jobs/s = N / (first submit -> last finished_at). Per job, from its view:
    submit->running = started_at - requested_at, submit->completed = finished_at - requested_at.
    A job submitted while the miner's slots are all taken is woken only by the sweep (ai.sweep_jobs,
    every 5 s, once `redispatch_after_s` has passed): with a backlog that shows in jobs/s and the p99.

Run from the repository root, with PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379:
    .venv/bin/python bench/jobs.py [--jobs 200] [--out figures.json]
Everything it starts is stopped, and the bench databases dropped, whatever happens.
"""

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import httpx
import psycopg
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from aitbc_site.domains import DOMAINS, SERVICE_PORTS  # noqa: E402

PY = sys.executable
PG = "postgres://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"
LABELS = {
    "aitbc_echo_jobs_per_s": "AITBC echo jobs/s",
    "celery_noop_tasks_per_s": "Celery no-op tasks/s",
    "ratio": "ratio (jobs/s / no-op tasks/s)",
    "submit_to_running_ms_p50_p99": "submit->running p50 / p99 ms",
    "submit_to_completed_ms_p50_p99": "submit->completed p50 / p99 ms",
    "noop_send_to_start_ms_p50_p99": "no-op send->start p50 / p99 ms",
    "noop_round_trip_ms_p50_p99": "no-op round trip p50 / p99 ms",
}
CELERY_APP = """import os, time
from celery import Celery
app = Celery("benchapp", broker=os.environ["BENCH_REDIS"], backend=os.environ["BENCH_REDIS"])
app.conf.update(task_default_queue="bench", broker_connection_retry_on_startup=True)

@app.task(name="bench.noop")
def noop():
    return None

@app.task(name="bench.stamp")
def stamp():
    return time.time()
"""


def pct(values, p):
    """The p-th percentile (0-100) by linear interpolation, in ms."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return round((ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)) * 1000, 1)


def start(args, env, log: Path, cwd=None) -> subprocess.Popen:
    out = open(log, "wb")  # noqa: SIM115 - the child keeps it; closed when we exit
    return subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen | None, timeout: float = 60) -> None:
    if proc is None:
        return
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group: anything it left behind
    except ProcessLookupError:
        pass
    proc.wait(10)


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def status_ok(url: str, **kwargs) -> bool:
    try:
        return httpx.get(url, timeout=5, **kwargs).status_code == 200
    except httpx.HTTPError:
        return False


def broker_users_drop(db: int) -> None:
    """The Redis ACL users the stack made for its GPU workers (`miner-<db>-...`): they outlive a flushed database."""
    control = redis.Redis.from_url(REDIS)
    for user in control.acl_users():
        if user.startswith(f"miner-{db}-"):
            control.acl_deluser(user)


def drop_databases(name: str) -> None:
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        for db in (name, *(f"{name}_{d}" for d in DOMAINS)):
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def celery_baseline(n: int, redis_url: str, tmp: Path, procs: list) -> dict:
    (tmp / "benchapp.py").write_text(CELERY_APP)
    os.environ["BENCH_REDIS"] = redis_url
    env = {**os.environ, "PYTHONPATH": str(tmp)}
    worker = [PY, "-m", "celery", *"-A benchapp worker -P solo -c 1 -Q bench -l WARNING".split()]
    procs.append(start(worker, env, tmp / "celery.log", cwd=tmp))
    sys.path.insert(0, str(tmp))
    from benchapp import noop, stamp

    noop.delay().get(timeout=60)  # the worker is up and consuming
    t0 = time.perf_counter()
    results = [noop.delay() for _ in range(n)]
    for r in results:
        r.get(timeout=120)
    elapsed = time.perf_counter() - t0
    to_start, round_trip = [], []
    for _ in range(100):
        sent = time.time()
        started = stamp.delay().get(timeout=30)
        round_trip.append(time.time() - sent)
        to_start.append(started - sent)
    return {
        "tasks_per_s": round(n / elapsed, 1),
        "send_to_start_ms": [pct(to_start, 50), pct(to_start, 99)],
        "round_trip_ms": [pct(round_trip, 50), pct(round_trip, 99)],
    }


def stack_start(args, home: Path, procs: list, **settings: str) -> tuple[dict, str]:
    """`aitbc up` on a fresh home and the bench's databases; `settings` are more AITBC_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITBC_")}
    env.update(
        **settings,
        AITBC_HOME=str(home),
        AITBC_DATABASE_URL=f"{PG}/{args.db}",
        PYTHONUNBUFFERED="1",
        AITBC_REDIS_URL=f"{REDIS}/{args.redis_db}",
        AITBC_PORT_OFFSET=str(args.offset),
    )
    procs.append(start([PY, "-m", "aitbc_cli", "up"], env, home / "up.log", cwd=ROOT))
    gateway = f"http://127.0.0.1:{SERVICE_PORTS['gateway'] + args.offset}"
    wait_for(lambda: procs[-1].poll() is None and status_ok(f"{gateway}/health"), 240, f"{gateway}/health")
    return env, gateway


def key_create(env: dict, role: str) -> dict:
    made = subprocess.run(
        [PY, "-m", "aitbc_cli", "keys", "create", "--role", role, "--name", f"bench-{role}", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if made.returncode:
        raise SystemExit(f"keys create --role {role}: {made.stderr.strip()[-500:]}")
    return json.loads(made.stdout.strip().splitlines()[-1])


async def submit_all(gateway: str, key: str, n: int, submitters: int) -> list[str]:
    ids, counter = [], iter(range(n))
    async with httpx.AsyncClient(base_url=gateway, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:

        async def submitter():
            for i in counter:
                body = {"type": "echo", "payload": {"i": i}, "max_price": "1", "ttl_seconds": 600}
                response = await http.post("/ai/v1/jobs", json=body)
                if response.status_code != 201:
                    raise SystemExit(f"submit {i}: {response.status_code} {response.text[:300]}")
                ids.append(response.json()["job_id"])

        await asyncio.gather(*(submitter() for _ in range(submitters)))
    return ids


def count(client: httpx.Client, state: str) -> int:
    return client.get("/ai/v1/jobs", params={"state": state, "limit": 1}).json()["count"]


def aitbc_jobs(args, gateway: str, env: dict, home: Path, procs: list) -> dict:
    admin, client, miner = (key_create(env, role) for role in ("admin", "client", "miner"))
    credit = httpx.post(
        f"{gateway}/trading/v1/ledger/credits",
        headers={"Authorization": f"Bearer {admin['key']}"},
        json={"principal_id": client["principal_id"], "amount": "1000000"},
        timeout=30,
    )
    if credit.status_code != 201:
        raise SystemExit(f"credit: {credit.status_code} {credit.text[:300]}")
    worker = [PY, "-m", "aitbc_cli", *"miner worker --unit-price 0.0001 --concurrency 4".split()]
    worker += ["--key", miner["key"], "--url", gateway]
    procs.append(start(worker, env, home / "miner.log", cwd=ROOT))
    miner_auth = {"headers": {"Authorization": f"Bearer {miner['key']}"}}
    wait_for(lambda: status_ok(f"{gateway}/gpu/v1/miners/me", **miner_auth), 120, "the miner to register")

    http = httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {client['key']}"}, timeout=60)
    asyncio.run(submit_all(gateway, client["key"], 1, 1))  # warm-up: the GPU worker is consuming
    wait_for(lambda: count(http, "COMPLETED") == 1, 120, "the warm-up job")
    t0 = time.time()
    ids = set(asyncio.run(submit_all(gateway, client["key"], args.jobs, args.submitters)))
    submitted = time.time() - t0

    shown = {"at": time.monotonic()}

    def all_done():
        ended = sum(count(http, s) for s in ("FAILED", "CANCELED", "EXPIRED"))
        if ended:
            raise SystemExit(f"{ended} jobs ended without completing; see {home}")
        done = count(http, "COMPLETED") - 1  # less the warm-up job
        if time.monotonic() - shown["at"] > 10:
            print(f"  {done}/{args.jobs} completed after {time.time() - t0:.0f} s", file=sys.stderr)
            shown["at"] = time.monotonic()
        return done >= args.jobs

    wait_for(all_done, args.timeout, f"{args.jobs} jobs to complete", interval=0.25)
    views = []
    for offset in range(0, args.jobs + 1, 500):
        page = http.get("/ai/v1/jobs", params={"state": "COMPLETED", "limit": 500, "offset": offset}).json()
        views += [v for v in page["items"] if v["job_id"] in ids]
    http.close()
    at = lambda v, field: datetime.fromisoformat(v[field]).timestamp()  # noqa: E731
    running = [at(v, "started_at") - at(v, "requested_at") for v in views]
    completed = [at(v, "finished_at") - at(v, "requested_at") for v in views]
    elapsed = max(at(v, "finished_at") for v in views) - t0
    return {
        "jobs": len(views),
        "jobs_per_s": round(len(views) / elapsed, 2),
        "submit_s": round(submitted, 2),
        "submit_to_running_ms": [pct(running, 50), pct(running, 99)],
        "submit_to_completed_ms": [pct(completed, 50), pct(completed, 99)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=200, help="echo jobs, and as many Celery no-ops")
    parser.add_argument("--submitters", type=int, default=8, help="concurrent submitting connections")
    parser.add_argument("--db", default="aitbc_bench")
    parser.add_argument("--redis-db", type=int, default=9)
    parser.add_argument("--celery-db", type=int, default=8)
    parser.add_argument("--offset", type=int, default=40000, help="AITBC_PORT_OFFSET")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the jobs")
    parser.add_argument("--out", help="also write the figures as JSON here")
    parser.add_argument("--keep-logs", action="store_true", help="keep the temp dir with every log")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="aitbc-bench-"))
    for db in (args.redis_db, args.celery_db):
        redis.Redis.from_url(f"{REDIS}/{db}").flushdb()
    drop_databases(args.db)
    procs: list[subprocess.Popen] = []
    try:
        print(f"logs in {home}", file=sys.stderr)
        celery = celery_baseline(args.jobs, f"{REDIS}/{args.celery_db}", home, procs)
        print(f"celery baseline: {celery}", file=sys.stderr)
        env, gateway = stack_start(args, home, procs)
        aitbc = aitbc_jobs(args, gateway, env, home, procs)
    finally:
        for proc in reversed(procs):  # GPU worker, then the stack, then the Celery worker
            stop(proc)
        drop_databases(args.db)
        for db in (args.redis_db, args.celery_db):
            redis.Redis.from_url(f"{REDIS}/{db}").flushdb()
        broker_users_drop(args.redis_db)

    figures = {
        "aitbc_echo_jobs_per_s": aitbc["jobs_per_s"],
        "celery_noop_tasks_per_s": celery["tasks_per_s"],
        "ratio": round(aitbc["jobs_per_s"] / celery["tasks_per_s"], 4),
        "submit_to_running_ms_p50_p99": aitbc["submit_to_running_ms"],
        "submit_to_completed_ms_p50_p99": aitbc["submit_to_completed_ms"],
        "noop_send_to_start_ms_p50_p99": celery["send_to_start_ms"],
        "noop_round_trip_ms_p50_p99": celery["round_trip_ms"],
        "jobs": aitbc["jobs"],
        "submitters": args.submitters,
        "submit_s": aitbc["submit_s"],
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }
    print(f"{args.jobs} echo jobs ({args.submitters} submitters) vs {args.jobs} Celery no-ops")
    for key, label in LABELS.items():
        value = figures[key] if not isinstance(figures[key], list) else "{} / {}".format(*figures[key])
        print(f"  {label:<34} {value:>16}")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.platform()}; both measured in the same run "
        "(the Celery baseline first, before the stack started)"
    )
    if args.out:
        Path(args.out).write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures))
    if not args.keep_logs:
        shutil.rmtree(home, ignore_errors=True)  # kept, with every log, when the run fails


if __name__ == "__main__":
    main()
