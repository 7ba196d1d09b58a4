"""Profiles (made on first use), roles and delegation."""

from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from aitbc_site.errors import Conflict, Invalid, NotFound
from apps.accounts.facade import PrincipalView, principal_get
from apps.governance.events import event_record
from apps.governance.models import Delegation, GovernanceProfile, Role

DB = "governance"
SETTABLE_ROLES = (Role.MEMBER, Role.COUNCIL)


def _role_of(principal: PrincipalView) -> str:
    if principal.is_admin:
        return Role.ADMIN
    has_delegators = Delegation.objects.filter(delegate_id=principal.id, ended_at=None).exists()
    return Role.DELEGATE if has_delegators else Role.MEMBER


def profile_ensure(principal: PrincipalView) -> GovernanceProfile:
    """The principal's profile, made the first time (admins are `admin`, everyone else starts a `member`)."""
    profile = GovernanceProfile.objects.filter(principal_id=principal.id).first()
    if profile is not None:
        if principal.is_admin and profile.role != Role.ADMIN:
            profile.role = Role.ADMIN
            profile.save(update_fields=["role", "updated_at"])
        return profile
    try:
        with transaction.atomic(using=DB):
            return GovernanceProfile.objects.create(
                principal_id=principal.id, name=principal.name, role=_role_of(principal)
            )
    except IntegrityError:
        return GovernanceProfile.objects.get(principal_id=principal.id)


def profile_ensure_id(principal_id: UUID, field: str = "principal_id") -> GovernanceProfile:
    """The profile of a principal named by id; 422 when there is no such active principal."""
    principal = principal_get(principal_id)
    if principal is None:
        raise Invalid(f"{field}: no active principal {principal_id}")
    return profile_ensure(principal)


def _refresh_delegate_role(principal_id: UUID) -> None:
    profile = GovernanceProfile.objects.filter(principal_id=principal_id).first()
    if profile is None or profile.role in (Role.ADMIN, Role.COUNCIL):
        return
    has_delegators = Delegation.objects.filter(delegate_id=principal_id, ended_at=None).exists()
    role = Role.DELEGATE if has_delegators else Role.MEMBER
    if profile.role != role:
        profile.role = role
        profile.save(update_fields=["role", "updated_at"])


def delegate_set(*, principal: PrincipalView, to_principal_id: UUID) -> GovernanceProfile:
    """From now on the principal's balance counts for `to_principal_id` (one level deep, never passed on)."""
    if to_principal_id == principal.id:
        raise Invalid("to_principal_id: you cannot delegate to yourself")
    profile_ensure_id(to_principal_id, "to_principal_id")
    profile = profile_ensure(principal)
    with transaction.atomic(using=DB):
        profile = GovernanceProfile.objects.select_for_update().get(id=profile.id)
        if profile.delegate_id == to_principal_id:
            return profile
        previous = profile.delegate_id
        now = timezone.now()
        Delegation.objects.filter(delegator_id=principal.id, ended_at=None).update(ended_at=now, updated_at=now)
        Delegation.objects.create(delegator_id=principal.id, delegate_id=to_principal_id, started_at=now)
        profile.delegate_id = to_principal_id
        profile.save(update_fields=["delegate_id", "updated_at"])
        _refresh_delegate_role(to_principal_id)
        if previous:
            _refresh_delegate_role(previous)
        event_record("delegated", principal_id=principal.id, to_principal_id=to_principal_id, previous=previous)
    return profile


def delegation_end(*, principal: PrincipalView) -> GovernanceProfile:
    """Takes the principal's power back (409 when it is not delegated)."""
    profile = profile_ensure(principal)
    with transaction.atomic(using=DB):
        profile = GovernanceProfile.objects.select_for_update().get(id=profile.id)
        if profile.delegate_id is None:
            raise Conflict("your voting power is not delegated", code="not_delegated")
        previous, now = profile.delegate_id, timezone.now()
        Delegation.objects.filter(delegator_id=principal.id, ended_at=None).update(ended_at=now, updated_at=now)
        profile.delegate_id = None
        profile.save(update_fields=["delegate_id", "updated_at"])
        _refresh_delegate_role(previous)
        event_record("undelegated", principal_id=principal.id, previous=previous)
    return profile


def profile_role_set(*, admin: PrincipalView, principal_id: UUID, role: str) -> GovernanceProfile:
    """An admin makes a principal council, or a member again (admin and delegate follow from facts)."""
    if role not in SETTABLE_ROLES:
        raise Invalid(f"role: may be set to {' or '.join(SETTABLE_ROLES)}, not {role!r}")
    principal = principal_get(principal_id)
    if principal is None:
        raise NotFound(f"no principal {principal_id}")
    if principal.is_admin:
        raise Conflict("an admin principal's governance role is always admin", code="role_fixed")
    profile = profile_ensure(principal)
    profile.role = role
    profile.save(update_fields=["role", "updated_at"])
    if role == Role.MEMBER:
        _refresh_delegate_role(principal_id)
        profile.refresh_from_db()
    event_record("role_set", principal_id=principal_id, role=profile.role, by=admin.id)
    return profile
