"""What other apps may know about principals: plain values, never ORM objects."""

from dataclasses import dataclass
from uuid import NAMESPACE_URL, UUID, uuid5


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
    from apps.accounts.models import Principal

    principal = Principal.objects.filter(id=principal_id, is_active=True).first()
    return PrincipalView.from_model(principal) if principal else None


def operator_principal(user) -> PrincipalView:
    """A staff user of the Django admin, acting as an admin principal: admin actions call the same services
    as the API with it. Its id is derived from the user (it owns no jobs, keys or money)."""
    return PrincipalView(id=uuid5(NAMESPACE_URL, f"aitbc:admin-user:{user.pk}"), name=user.get_username(), role="admin")
