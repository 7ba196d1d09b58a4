"""How fast the order book matches, next to raw inserts of the same rows measured in the same run.

    .venv/bin/python bench/matching.py [--orders 500]

Uses PostgreSQL at 127.0.0.1:5432 (fresh databases aitbc_benchmatch*, dropped at the end). Three figures:
1. raw inserts: the offers, bids and fills of the run written with plain bulk INSERTs (the floor a
   database-backed engine cannot beat);
2. engine alone: `class_match` over a book of N offers and N bids that all cross (row locks, price-time
   priority, fills and order updates persisted), without escrow or bookings;
3. end to end: N offers and N bids placed through the services the API calls: each bid holds escrow,
   each order runs the engine, each fill moves escrow and books the GPUs.
"""

import argparse
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NAME = "aitbc_benchmatch"
os.environ.update(
    AITBC_DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{NAME}",
    AITBC_HOME=tempfile.mkdtemp(prefix="aitbc-benchmatch-"),
    DJANGO_SETTINGS_MODULE="aitbc_site.settings",
)
os.environ.pop("AITBC_REDIS_URL", None)


def databases_reset() -> None:
    import psycopg

    from aitbc_site.domains import DOMAINS

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        for name in [NAME, *(f"{NAME}_{d}" for d in DOMAINS)]:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connections

    from aitbc_cli.db import database_create_missing

    for alias in connections:
        database_create_missing(alias)
        call_command("migrate", database=alias, verbosity=0)


def book(n: int, rng: random.Random):
    """N asks from 1.00 to 2.00 and N bids from 2.00 to 3.00: everything crosses."""
    asks = [Decimal(100 + rng.randrange(100)) / 100 for _ in range(n)]
    bids = [Decimal(200 + rng.randrange(100)) / 100 for _ in range(n)]
    return asks, bids


def raw_inserts(n: int, rng: random.Random) -> float:
    import uuid

    from django.db import connections

    asks, bids = book(n, rng)
    started = time.perf_counter()
    with connections["marketplace"].cursor() as cursor:
        offer_rows = [(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "H100", "raw", 80, 1, "", "eu", int(p * 10**8),
                       10**8, 0, "FILLED") for p in asks]  # fmt: skip
        cursor.executemany(
            "INSERT INTO marketplace_offer (id, miner_id, provider_id, gpu_model, gpu_class, gpu_memory_gb, gpu_count,"
            " cuda_version, region, price_per_hour, hours, remaining_hours, status, created_at, updated_at)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s, now(), now())",
            offer_rows,
        )
        bid_rows = [(uuid.uuid4(), uuid.uuid4(), "H100", "raw", 0, 1, "", int(p * 10**8), 10**8, 0, "FILLED")
                    for p in bids]  # fmt: skip
        cursor.executemany(
            "INSERT INTO marketplace_bid (id, client_id, gpu_model, gpu_class, min_gpu_memory_gb, gpu_count, region,"
            " max_price_per_hour, hours, remaining_hours, status, created_at, updated_at)"
            " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s, now(), now())",
            bid_rows,
        )
        fill_rows = [
            (uuid.uuid4(), o[0], b[0], o[9], 10**8, 1, o[9], "BOOKED")
            for o, b in zip(offer_rows, bid_rows, strict=True)
        ]
        cursor.executemany(
            "INSERT INTO marketplace_fill (id, offer_id, bid_id, price_per_hour, hours, gpu_count, amount, status,"
            " created_at, updated_at) VALUES (%s,%s,%s,%s,%s,%s,%s,%s, now(), now())",
            fill_rows,
        )
    return 2 * n / (time.perf_counter() - started)


def sellers_with_gpus(n: int, name: str) -> list:
    """Ten miners with n/10 GPUs each (rounded up), since an offer sells its miner's registered GPUs and every
    fill of this book holds one of them for the same hour."""
    from tests import factories

    gpu = {"name": name, "uuid": "", "memory_mb": 81559}
    return [factories.miner(unit_price="0.001", concurrency=1, gpus=(gpu,) * -(-n // 10)) for _ in range(10)]


def engine_alone(n: int, rng: random.Random) -> float:
    import uuid

    from apps.marketplace.engine import class_match
    from apps.marketplace.models import Bid, Fill, Offer

    asks, bids = book(n, rng)
    sellers = sellers_with_gpus(n, "NVIDIA H100 80GB HBM3")
    Offer.objects.bulk_create(
        Offer(miner_id=sellers[i % 10].id, provider_id=uuid.uuid4(), gpu_model="H100", gpu_class="engine",
              gpu_memory_gb=80, gpu_count=1, region="eu", price_per_hour=p, hours=1, remaining_hours=1)
        for i, p in enumerate(asks)
    )  # fmt: skip
    Bid.objects.bulk_create(
        Bid(client_id=uuid.uuid4(), gpu_model="H100", gpu_class="engine", gpu_count=1, max_price_per_hour=p, hours=1,
            remaining_hours=1) for p in bids
    )  # fmt: skip
    started = time.perf_counter()
    fills = class_match("engine")
    elapsed = time.perf_counter() - started
    assert len(fills) == n == Fill.objects.filter(bid__gpu_class="engine").count()
    return 2 * n / elapsed


def end_to_end(n: int, rng: random.Random) -> float:
    from apps.accounts.facade import PrincipalView
    from apps.marketplace.models import Fill
    from apps.marketplace.services import bid_create, offer_create
    from apps.trading.services.ledger import treasury_credit
    from tests import factories

    asks, bids = book(n, rng)
    sellers = [PrincipalView(id=m.principal_id, name="", role="miner") for m in sellers_with_gpus(n, "NVIDIA H100 e2e")]
    buyer, _ = factories.principal("client")
    treasury_credit(to_owner=buyer.id, amount=Decimal(10**6), key="bench-credit")
    assert isinstance(buyer, PrincipalView)
    started = time.perf_counter()
    for i, (ask, bid) in enumerate(zip(asks, bids, strict=True)):
        offer_create(miner=sellers[i % 10], gpu_model="H100 e2e", gpu_memory_gb=80, gpu_count=1, cuda_version="",
                     region="eu", price_per_hour=ask, hours=Decimal(1))  # fmt: skip
        bid_create(client=buyer, gpu_model="H100 e2e", min_gpu_memory_gb=0, gpu_count=1, region="",
                   max_price_per_hour=bid, hours=Decimal(1))  # fmt: skip
    elapsed = time.perf_counter() - started
    assert Fill.objects.filter(bid__gpu_class="h100 e2e", status="BOOKED").count() == n
    return 2 * n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=500, help="offers and as many bids")
    args = parser.parse_args()
    databases_reset()
    try:
        setup()
        rng = random.Random(7)
        raw = raw_inserts(args.orders, rng)
        engine = engine_alone(args.orders, rng)
        e2e = end_to_end(min(args.orders, 200), rng)
        from apps.trading.services.ledger import ledger_check

        assert ledger_check().ok
    finally:
        from django.db import connections

        connections.close_all()
        databases_reset()
    print(f"{args.orders} offers + {args.orders} bids, all crossing; PostgreSQL; {os.cpu_count()} CPUs")
    print(f"  raw INSERTs of the same rows (baseline)  {raw:10.0f} orders/s")
    print(f"  engine alone (class_match, persisted)    {engine:10.0f} orders/s   {engine / raw:.3f} x baseline")
    print(f"  end to end (escrow, engine, bookings, agreements) {e2e:.0f} orders/s   {e2e / raw:.3f} x baseline")


if __name__ == "__main__":
    main()
