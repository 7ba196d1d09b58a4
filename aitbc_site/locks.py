"""One transaction-scoped lock by name, for work that has no row to lock (a matching run per GPU class, the
block sealer, a miner's claims, a change of platform parameters)."""

import hashlib

from django.db import connections


def advisory_lock(db: str, name: str) -> None:
    """Held until the current transaction on `db` ends. A PostgreSQL advisory lock keyed by a hash of `name`;
    on SQLite nothing is needed, since its IMMEDIATE transactions already let one writer in at a time."""
    connection = connections[db]
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
