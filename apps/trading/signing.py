"""The platform's Ed25519 signing key: AITBC_SIGNING_KEY, or made once in AITBC_HOME/signing_key."""

import base64
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from aitbc_client.canonical import key_id_for
from aitbc_site.config import secret_from_file


@lru_cache(maxsize=1)
def _private_key() -> Ed25519PrivateKey:
    seed_b64 = settings.AITBC_SIGNING_KEY or secret_from_file(settings.AITBC_HOME / "signing_key", nbytes=32)
    seed = base64.urlsafe_b64decode(seed_b64 + "=" * (-len(seed_b64) % 4))
    if len(seed) != 32:
        raise ValueError("AITBC_SIGNING_KEY must be the base64 of a 32-byte Ed25519 seed")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_bytes() -> bytes:
    return _private_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id() -> str:
    return key_id_for(public_key_bytes())


def sign(message: bytes) -> dict:
    signature = _private_key().sign(message)
    return {"alg": "Ed25519", "key_id": key_id(), "sig": base64.b64encode(signature).decode()}


def published_keys() -> list[dict]:
    return [{"key_id": key_id(), "alg": "Ed25519", "public_key": base64.b64encode(public_key_bytes()).decode()}]
