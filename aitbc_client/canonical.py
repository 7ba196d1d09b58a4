"""Canonical JSON and Ed25519 signatures, exactly as API.md ("Receipts", "Blocks") specifies."""

import base64
import hashlib
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def canonical_json(value) -> bytes:
    """Keys sorted, separators `,` and `:` without spaces, UTF-8 with non-ASCII kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def key_id_for(public_key: bytes) -> str:
    return "ed25519-" + sha256_hex(public_key)[:16]


def signature_valid(public_key_b64: str, message: bytes, signature_b64: str) -> bool:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64, validate=True))
        key.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def receipt_verify(receipt: dict, published_keys: list[dict]) -> str | None:
    """None when the receipt's signature verifies under one of the platform's published keys, else why not.

    The key is looked up among the published keys by the receipt's key_id; a key carried inside a
    receipt is never trusted.
    """
    signature = receipt.get("signature") or {}
    if signature.get("alg") != "Ed25519":
        return "the receipt is not signed with Ed25519"
    keys = {k["key_id"]: k["public_key"] for k in published_keys if k.get("alg") == "Ed25519"}
    public_key = keys.get(signature.get("key_id"))
    if public_key is None:
        return f"key {signature.get('key_id')!r} is not one of the platform's published keys"
    body = {k: v for k, v in receipt.items() if k != "signature"}
    if not signature_valid(public_key, canonical_json(body), signature.get("sig", "")):
        return "the signature does not match the receipt"
    return None
