"""Locks for claiming jobs. Job rows are locked with SELECT ... FOR UPDATE (SKIP LOCKED where it exists);
a miner's claims are serialised so that it never holds more jobs than it has slots."""

from uuid import UUID

from django.db import connections

DB = "ai"


def miner_claims_lock(miner_id: UUID) -> None:
    """A transaction-scoped lock per miner (PostgreSQL advisory lock; SQLite serialises writers anyway)."""
    connection = connections[DB]
    if connection.vendor != "postgresql":
        return
    key = (miner_id.int >> 64) - (1 << 63)  # a signed 64-bit number from the id
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
