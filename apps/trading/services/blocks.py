"""The block log: receipts and ledger transactions sealed into hash-chained, signed blocks."""

from django.db import transaction
from django.utils import timezone

from aitbc_client.chain import GENESIS_PREV_HASH, header_hash, item_hash, merkle_root
from aitbc_site.locks import advisory_lock
from aitbc_site.money import money_str
from aitbc_site.times import iso
from apps.trading import signing
from apps.trading.models import Block, BlockItem, Entry, Receipt

DB = "trading"
BLOCK_MAX_ITEMS = 500


def account_label(account) -> str:
    return f"principal:{account.owner_id}" if account.owner_id else account.kind


def entry_body(entry: Entry) -> dict:
    """A ledger transaction as it is sealed and hashed: rebuilt from its rows, so an edit shows."""
    postings = [
        {"account": account_label(p.account), "amount": money_str(p.amount)}
        for p in entry.postings.select_related("account")
    ]
    return {
        "tx_id": str(entry.id),
        "key": entry.key,
        "kind": entry.kind,
        "memo": entry.memo,
        "reference": entry.reference,
        "created_at": iso(entry.created_at),
        "postings": sorted(postings, key=lambda p: (p["account"], p["amount"])),
    }


def _sealer_lock() -> None:
    advisory_lock(DB, "block-sealer")


def _unsealed() -> list[tuple]:
    """The oldest unsealed receipts and transactions, in the order they were made."""
    receipts = Receipt.objects.filter(block_height__isnull=True).order_by("created_at", "id")[:BLOCK_MAX_ITEMS]
    entries = Entry.objects.filter(block_height__isnull=True).order_by("created_at", "id")[:BLOCK_MAX_ITEMS]
    rows = [(r.created_at, "receipt", r.id, r.body) for r in receipts]
    rows += [(e.created_at, "transaction", e.id, entry_body(e)) for e in entries.prefetch_related("postings__account")]
    rows.sort(key=lambda row: (row[0], row[1], str(row[2])))
    return rows[:BLOCK_MAX_ITEMS]


def block_seal() -> Block | None:
    """Seals what is new into the next block; None when there is nothing to seal.

    One transaction: the block, its items and the sealed marks on the rows. Sealers take turns (an
    advisory lock on PostgreSQL, the write lock on SQLite), and the height is the primary key, so a
    second sealer can never add another block at the same height.
    """
    with transaction.atomic(using=DB):
        _sealer_lock()
        rows = _unsealed()
        if not rows:
            return None
        last = Block.objects.order_by("-height").first()
        items = [{"kind": kind, "hash": item_hash(body), "body": body, "ref_id": ref} for _, kind, ref, body in rows]
        header = {
            "height": last.height + 1 if last else 0,
            "prev_hash": last.hash if last else GENESIS_PREV_HASH,
            "merkle_root": merkle_root([item["hash"] for item in items]),
            "sealed_at": iso(timezone.now()),
            "tx_count": len(items),
        }
        block_hash = header_hash(header)
        block = Block.objects.create(**header, hash=block_hash, signature=signing.sign(bytes.fromhex(block_hash)))
        BlockItem.objects.bulk_create(
            BlockItem(block=block, position=i, kind=it["kind"], hash=it["hash"], ref_id=it["ref_id"], body=it["body"])
            for i, it in enumerate(items)
        )
        for model, kind in ((Receipt, "receipt"), (Entry, "transaction")):
            ids = [it["ref_id"] for it in items if it["kind"] == kind]
            marked = model.objects.filter(id__in=ids, block_height__isnull=True).update(block_height=block.height)
            if marked != len(ids):
                raise RuntimeError("rows were sealed by someone else meanwhile")  # rolls the block back
    return block
