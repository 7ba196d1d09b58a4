"""Reading the block log (the explorer), and verifying it as stored, row by row, with the public key alone."""

import re
import threading
from collections.abc import Mapping

from django.utils import timezone

from aitbc_client.chain import GENESIS_PREV_HASH, block_problem, item_hash
from aitbc_site.errors import Invalid, NotFound
from aitbc_site.inputs import INT64_MAX
from aitbc_site.times import iso
from apps.trading import signing
from apps.trading.models import Block, BlockItem, Entry, Receipt
from apps.trading.services.blocks import entry_body

HEX64 = re.compile(r"[0-9a-f]{64}\Z")
HEIGHT = re.compile(r"[0-9]+\Z")  # ASCII digits only: "²".isdigit() is True, and int() takes other scripts' digits
VERIFY_BATCH = 200


def block_header(block: Block) -> dict:
    return {
        "height": block.height,
        "hash": block.hash,
        "prev_hash": block.prev_hash,
        "merkle_root": block.merkle_root,
        "sealed_at": block.sealed_at,
        "tx_count": block.tx_count,
        "signature": block.signature,
    }


def chain_head() -> dict:
    """The latest sealed block's height and time (None before the first block), and what waits to be sealed."""
    head: Mapping[str, object] = Block.objects.order_by("-height").values("height", "sealed_at", "hash").first() or {}
    unsealed = Entry.objects.filter(block_height__isnull=True).count()
    unsealed += Receipt.objects.filter(block_height__isnull=True).count()
    return {**dict.fromkeys(("height", "sealed_at", "hash")), **head, "unsealed": unsealed}


def block_full(block: Block) -> dict:
    items = [{"kind": i.kind, "hash": i.hash, "body": i.body} for i in block.items.order_by("position")]
    return {**block_header(block), "items": items}


def block_list(*, limit: int, offset: int):
    blocks = Block.objects.order_by("-height")
    return blocks.count(), [block_header(b) for b in blocks[offset : offset + limit]]


def block_get(ident: str) -> Block:
    """A block by height (ASCII digits) or by hash (64 hex); 422 when it is neither, 404 when there is none (a
    height beyond any column included)."""
    if HEIGHT.match(ident):
        digits = ident.lstrip("0") or "0"
        height = int(digits) if len(digits) <= 19 else None  # more digits than any bigint: no such block
        block = Block.objects.filter(height=height).first() if height is not None and height <= INT64_MAX else None
    elif HEX64.match(ident.lower()):
        block = Block.objects.filter(hash=ident.lower()).first()
    else:
        raise Invalid(f"block: {ident[:80]!r} is neither a height nor a 64-character hex hash")
    if block is None:
        raise NotFound(f"no block {ident[:80]}")
    return block


def transaction_get(tx_hash: str) -> dict:
    if not HEX64.match(tx_hash.lower()):
        raise Invalid(f"tx_hash: {tx_hash[:80]!r} is not a 64-character hex hash")
    item = BlockItem.objects.filter(hash=tx_hash.lower()).select_related("block").first()
    if item is None:
        raise NotFound(f"no sealed transaction or receipt {tx_hash}")
    return {
        "hash": item.hash,
        "kind": item.kind,
        "block_height": item.block_id,
        "position": item.position,
        "body": item.body,
    }


def chain_export(*, from_height: int, limit: int) -> list[dict]:
    blocks = Block.objects.filter(height__gte=from_height).order_by("height")[:limit]
    return [block_full(b) for b in blocks.prefetch_related("items")]


def _stored_body(item: BlockItem) -> dict | None:
    """The receipt or transaction as the database holds it now."""
    if item.kind == "receipt":
        receipt = Receipt.objects.filter(id=item.ref_id).first()
        return receipt.body if receipt else None
    entry = Entry.objects.filter(id=item.ref_id).prefetch_related("postings__account").first()
    return entry_body(entry) if entry else None


def _rows_problem(block: Block, items: list[BlockItem]) -> str | None:
    for item in items:
        stored = _stored_body(item)
        if stored is None:
            return f"{item.kind} {item.ref_id} sealed at position {item.position} is missing from the database"
        if item_hash(stored) != item.hash:
            return f"{item.kind} {item.ref_id} (position {item.position}) was changed after it was sealed"
    return None


def chain_verify_stored() -> dict:
    """Recomputes every item hash, Merkle root, link and signature, and re-checks every stored receipt
    and ledger transaction against its block. Names the first block (and row) that fails."""
    published = signing.published_keys()
    keys = {k["key_id"]: k["public_key"] for k in published}
    prev_hash, height, checked = GENESIS_PREV_HASH, 0, 0
    while True:
        batch = list(Block.objects.filter(height__gte=height).order_by("height")[:VERIFY_BATCH])
        if not batch:
            break
        for block in batch:
            if block.height != height:
                return {"valid": False, "height": height, "problem": f"block {height} is missing"}
            items = list(block.items.order_by("position"))
            full = {**block_header(block), "items": [{"kind": i.kind, "hash": i.hash, "body": i.body} for i in items]}
            problem = block_problem(full, prev_hash, keys, published) or _rows_problem(block, items)
            if problem:
                return {"valid": False, "height": block.height, "hash": block.hash, "problem": problem}
            prev_hash, height, checked = block.hash, height + 1, checked + 1
    return {"valid": True, "height": height - 1 if checked else None, "checked_blocks": checked, **_seal_counts()}


def _seal_counts() -> dict:
    return {
        "sealed_receipts": Receipt.objects.filter(block_height__isnull=False).count(),
        "unsealed_receipts": Receipt.objects.filter(block_height__isnull=True).count(),
        "unsealed_transactions": Entry.objects.filter(block_height__isnull=True).count(),
    }


class VerifiedTips:
    """The last full verification, kept for the chain tip (height and hash) it was made at: anonymous callers are
    answered from it, so a flood of them costs one verification per new block in each process (the callers of
    one process wait for the one running). The counts of what waits to be sealed are read fresh each time."""

    def __init__(self):
        self.lock, self.tip, self.report = threading.Lock(), None, None

    def report_for_tip(self) -> dict:
        tip = Block.objects.order_by("-height").values_list("height", "hash").first()
        with self.lock:
            if self.report is None or self.tip != tip:
                self.tip, self.report = tip, {**chain_verify_stored(), "verified_at": iso(timezone.now())}
            report = self.report
        return {**report, **_seal_counts(), "cached": True}


verified_tips = VerifiedTips()


def chain_verify(*, fresh: bool) -> dict:
    """A full verification now (`fresh`: for callers with a key, whom the gateway rate-limits), or the one made at
    the current chain tip (anyone)."""
    if fresh:
        return {**chain_verify_stored(), "verified_at": iso(timezone.now()), "cached": False}
    return verified_tips.report_for_tip()
