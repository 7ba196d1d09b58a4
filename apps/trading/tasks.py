from celery import shared_task

from apps.trading.services.blocks import block_seal


@shared_task(name="trading.seal_block", soft_time_limit=50, time_limit=60)
def seal_block() -> int | None:
    """Seals the receipts and ledger transactions made since the last block (nothing new: no block)."""
    block = block_seal()
    return block.height if block else None
