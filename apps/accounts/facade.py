"""What other apps may know about principals: plain values, never ORM objects."""

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5

from django.db.models import Q
from django.utils import timezone

from aitbc_site.hooks import Hook
from apps.accounts.models import ApiKey, Principal

# Called after a principal's key (or every key) is revoked, with principal_id=: the gpu app drops that
# miner's broker user, so a revoked key's holder loses the broker as well as the API.
keys_revoked = Hook("accounts.keys_revoked")


@dataclass(frozen=True)
class PrincipalView:
    id: UUID
    name: str
    role: str

    @classmethod
    def from_model(cls, principal) -> "PrincipalView":
        return cls(id=principal.id, name=principal.name, role=principal.role)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def principal_get(principal_id: UUID) -> PrincipalView | None:
    principal = Principal.objects.filter(id=principal_id, is_active=True).first()
    return PrincipalView.from_model(principal) if principal else None


def principals_live(principal_ids) -> set[UUID]:
    """Those of these principals that are active and hold a key that is neither revoked nor expired."""
    keys = ApiKey.objects.filter(principal_id__in=list(principal_ids), principal__is_active=True, revoked_at=None)
    keys = keys.filter(Q(expires_at=None) | Q(expires_at__gt=timezone.now()))
    return set(keys.values_list("principal_id", flat=True))


def operator_principal(user) -> PrincipalView:
    """A staff user of the Django admin, acting as an admin principal: admin actions call the same services
    as the API with it. Its id is derived from the user (it owns no jobs, keys or money)."""
    return PrincipalView(id=uuid5(NAMESPACE_URL, f"aitbc:admin-user:{user.pk}"), name=user.get_username(), role="admin")
