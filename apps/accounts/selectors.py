from django.db.models import Count, Q
from django.utils import timezone

from apps.accounts.facade import PrincipalView
from apps.accounts.keys import api_key_hash
from apps.accounts.models import ApiKey, Principal


def principal_for_key(raw_key: str) -> PrincipalView | None:
    """The active principal a live key belongs to, or None."""
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


def principal_list():
    live = Q(keys__revoked_at__isnull=True)
    return Principal.objects.annotate(live_keys=Count("keys", filter=live)).order_by("created_at")
