"""API key material: how a key looks and how it is hashed."""

import hashlib
import hmac
import secrets

from django.conf import settings

KEY_PREFIX = "aitbc_"
SHOWN_PREFIX_LENGTH = 12


def api_key_generate() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def api_key_hash(raw_key: str) -> str:
    """A keyed SHA-256 (HMAC): fast to check on every request, useless without the server secret."""
    return hmac.new(settings.SECRET_KEY.encode(), raw_key.encode(), hashlib.sha256).hexdigest()
