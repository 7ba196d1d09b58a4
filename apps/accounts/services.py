from dataclasses import dataclass
from datetime import datetime
from typing import cast
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from aitbc_site.errors import Invalid, NotFound
from aitbc_site.inputs import LATEST, text_problem
from apps.accounts.auth import principals_forget
from apps.accounts.facade import keys_revoked
from apps.accounts.keys import SHOWN_PREFIX_LENGTH, api_key_generate, api_key_hash
from apps.accounts.models import ApiKey, Principal, Role

NAME_MAX = cast(int, Principal._meta.get_field("name").max_length)  # a CharField: it has one


@dataclass(frozen=True)
class IssuedKey:
    principal_id: UUID
    key: str
    key_id: UUID | None = None
    expires_at: datetime | None = None


def api_key_issue(*, principal: Principal, expires_at: datetime | None = None) -> IssuedKey:
    if expires_at is not None and expires_at <= timezone.now():
        raise Invalid("expires_at must be in the future")
    if expires_at is not None and expires_at >= LATEST:
        raise Invalid(f"expires_at must be before the year {LATEST.year}")
    raw = api_key_generate()
    key = ApiKey.objects.create(
        principal=principal, prefix=raw[:SHOWN_PREFIX_LENGTH], key_hash=api_key_hash(raw), expires_at=expires_at
    )
    return IssuedKey(principal_id=principal.id, key=raw, key_id=key.id, expires_at=expires_at)


def api_key_rotate(*, principal_id: UUID, expires_at: datetime | None = None) -> IssuedKey:
    """A new key for the principal; its old keys keep working until they are revoked or expire."""
    principal = Principal.objects.filter(id=principal_id, is_active=True).first()
    if principal is None:
        raise NotFound(f"no active principal {principal_id}")
    return api_key_issue(principal=principal, expires_at=expires_at)


def api_key_revoke(*, principal_id: UUID, key_id: UUID) -> None:
    """Revokes one key of the principal (404 when it has no such key)."""
    revoked = ApiKey.objects.filter(id=key_id, principal_id=principal_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), updated_at=timezone.now()
    )
    if not revoked:
        raise NotFound(f"no live key {key_id}")
    _revoked_on_commit(principal_id)


def _revoked_on_commit(principal_id: UUID) -> None:
    """This process forgets the principals it remembered (now and once committed: a request in between may have
    looked the key up again); the others forget within AITBC_PRINCIPAL_CACHE_S."""
    principals_forget()
    transaction.on_commit(principals_forget, using="default")
    transaction.on_commit(lambda: keys_revoked(principal_id), using="default")


def principal_create(*, name: str, role: str, expires_at: datetime | None = None) -> IssuedKey:
    """A new principal with its first API key; the key is returned once and never stored."""
    if role not in Role.values:
        raise Invalid(f"role must be one of {', '.join(Role.values)}, not {role!r:.40}")
    name = name.strip()
    if not name:
        raise Invalid("name must not be empty")
    if len(name) > NAME_MAX:
        raise Invalid(f"name may have at most {NAME_MAX} characters, not {len(name)}")
    if problem := text_problem(name):
        raise Invalid(f"name: {problem}")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise Invalid("name: may not contain control characters")
    with transaction.atomic(using="default"):
        principal = Principal.objects.create(name=name, role=role)
        return api_key_issue(principal=principal, expires_at=expires_at)


def principal_revoke(*, principal_id: UUID) -> int:
    """Revokes every live key of a principal and deactivates it; returns how many keys were revoked."""
    with transaction.atomic(using="default"):
        updated = Principal.objects.filter(id=principal_id).update(is_active=False, updated_at=timezone.now())
        if not updated:
            raise NotFound(f"no principal {principal_id}")
        _revoked_on_commit(principal_id)
        return ApiKey.objects.filter(principal_id=principal_id, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), updated_at=timezone.now()
        )
