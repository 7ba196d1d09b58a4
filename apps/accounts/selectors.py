from django.db.models import Count, Q
from django.utils import timezone

from apps.accounts.facade import PrincipalView
from apps.accounts.keys import api_key_hash
from apps.accounts.models import ApiKey, Principal

KEY_MAX = 128  # a key is KEY_PREFIX and 43 characters; anything much longer is not one of ours


def principal_for_key(raw_key: str) -> PrincipalView | None:
    """The active principal a live key belongs to, or None (at once for anything that cannot be a key)."""
    if not raw_key or len(raw_key) > KEY_MAX or not raw_key.isascii():
        return None
    now = timezone.now()
    key = (
        ApiKey.objects.select_related("principal")
        .filter(key_hash=api_key_hash(raw_key), revoked_at__isnull=True, principal__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if key is None:
        return None
    return PrincipalView.from_model(key.principal)


def api_key_list(principal_id, *, limit: int = 50, offset: int = 0) -> tuple[int, list[ApiKey]]:
    """A principal's keys, oldest first (revoked and expired ones too)."""
    keys = ApiKey.objects.filter(principal_id=principal_id).order_by("created_at", "id")
    return keys.count(), list(keys[offset : offset + limit])


def principal_list():
    live = Q(keys__revoked_at__isnull=True)
    return Principal.objects.annotate(live_keys=Count("keys", filter=live)).order_by("created_at")
