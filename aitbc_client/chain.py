"""The block log's rules (API.md "Blocks"), and verifying a chain with nothing but the public key."""

import base64
import hashlib

from aitbc_client.canonical import canonical_json, receipt_verify, sha256_hex, signature_valid

GENESIS_PREV_HASH = "0" * 64
HEADER_FIELDS = ("height", "prev_hash", "merkle_root", "sealed_at", "tx_count")


def item_hash(body: dict) -> str:
    return sha256_hex(canonical_json(body))


def merkle_root(hashes: list[str]) -> str:
    """Binary Merkle tree over 32-byte hashes; an odd last node pairs with itself; none: SHA-256 of nothing."""
    if not hashes:
        return hashlib.sha256(b"").hexdigest()
    level = [bytes.fromhex(h) for h in hashes]
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        level = [hashlib.sha256(level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0].hex()


def header_hash(block: dict) -> str:
    return sha256_hex(canonical_json({field: block[field] for field in HEADER_FIELDS}))


def _signature_ok(block: dict, keys: dict[str, str]) -> bool:
    signature = block.get("signature") or {}
    key_id = signature.get("key_id")
    public_key = None if key_id is None else keys.get(key_id)
    if signature.get("alg") != "Ed25519" or public_key is None:
        return False
    return signature_valid(public_key, bytes.fromhex(block["hash"]), signature.get("sig", ""))


def block_problem(block: dict, prev_hash: str, keys: dict[str, str], published: list[dict]) -> str | None:
    """Why this block is not valid after a block whose hash is prev_hash, or None."""
    items = block.get("items", [])
    for position, item in enumerate(items):
        if item_hash(item["body"]) != item["hash"]:
            return f"item {position} ({item['kind']}) does not match its hash"
        if item["kind"] == "receipt" and (why := receipt_verify(item["body"], published)):
            return f"item {position} (receipt {item['body'].get('receipt_id')}): {why}"
    if block["tx_count"] != len(items):
        return f"tx_count {block['tx_count']} but {len(items)} items"
    if merkle_root([item["hash"] for item in items]) != block["merkle_root"]:
        return "the Merkle root does not match its items"
    if block["prev_hash"] != prev_hash:
        return "prev_hash does not link to the block before it"
    if header_hash(block) != block["hash"]:
        return "the block hash does not match its header"
    if not _signature_ok(block, keys):
        return "the block signature does not verify with the published key"
    return None


def chain_verify(blocks: list[dict], published_keys: list[dict]) -> dict:
    """Checks blocks (with items) in height order from the first block: every item hash, receipt
    signature, Merkle root, link and block signature. Names the first block that fails."""
    keys = {k["key_id"]: k["public_key"] for k in published_keys if k.get("alg") == "Ed25519"}
    prev_hash, expected_height = GENESIS_PREV_HASH, 0
    for block in blocks:
        if block["height"] != expected_height:
            return {"valid": False, "height": block["height"], "problem": f"expected height {expected_height}"}
        problem = block_problem(block, prev_hash, keys, published_keys)
        if problem:
            return {"valid": False, "height": block["height"], "hash": block.get("hash"), "problem": problem}
        prev_hash, expected_height = block["hash"], expected_height + 1
    return {"valid": True, "height": expected_height - 1, "checked_blocks": len(blocks)}


def public_key_entry(public_key_b64: str) -> dict:
    """A published-key entry from a bare base64 public key (for offline verification)."""
    from aitbc_client.canonical import key_id_for

    return {"key_id": key_id_for(base64.b64decode(public_key_b64)), "alg": "Ed25519", "public_key": public_key_b64}
