from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from aitbc_site.errors import Invalid, NotFound
from apps.accounts.keys import SHOWN_PREFIX_LENGTH, api_key_generate, api_key_hash
from apps.accounts.models import ApiKey, Principal, Role


@dataclass(frozen=True)
class IssuedKey:
    principal_id: UUID
    key: str


def api_key_issue(*, principal: Principal) -> str:
    raw = api_key_generate()
    ApiKey.objects.create(principal=principal, prefix=raw[:SHOWN_PREFIX_LENGTH], key_hash=api_key_hash(raw))
    return raw


def principal_create(*, name: str, role: str) -> IssuedKey:
    """A new principal with its first API key; the key is returned once and never stored."""
    if role not in Role.values:
        raise Invalid(f"role must be one of {', '.join(Role.values)}, not {role!r}")
    name = name.strip()
    if not name:
        raise Invalid("name must not be empty")
    with transaction.atomic(using="default"):
        principal = Principal.objects.create(name=name, role=role)
        key = api_key_issue(principal=principal)
    return IssuedKey(principal_id=principal.id, key=key)


def principal_revoke(*, principal_id: UUID) -> int:
    """Revokes every live key of a principal and deactivates it; returns how many keys were revoked."""
    with transaction.atomic(using="default"):
        updated = Principal.objects.filter(id=principal_id).update(is_active=False, updated_at=timezone.now())
        if not updated:
            raise NotFound(f"no principal {principal_id}")
        return ApiKey.objects.filter(principal_id=principal_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), updated_at=timezone.now()
        )
