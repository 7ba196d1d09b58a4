"""Locks for claiming jobs. Job rows are locked with SELECT ... FOR UPDATE (SKIP LOCKED where it exists);
a miner's claims are serialised so that it never holds more jobs than it has slots."""

from uuid import UUID

from aitbc_site.locks import advisory_lock

DB = "ai"


def miner_claims_lock(miner_id: UUID) -> None:
    """A transaction-scoped lock per miner (SQLite serialises writers anyway)."""
    advisory_lock(DB, f"claims:{miner_id}")
