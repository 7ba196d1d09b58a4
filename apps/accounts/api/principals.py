from datetime import timedelta
from typing import cast
from uuid import UUID

from django.http import HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from aitbc_site.api import Error
from aitbc_site.times import iso
from apps.accounts.auth import any_principal, api_key_from_request
from apps.accounts.keys import api_key_hash
from apps.accounts.models import ApiKey
from apps.accounts.selectors import api_key_list
from apps.accounts.services import api_key_revoke, api_key_rotate


class PrincipalOut(Schema):
    principal_id: UUID
    name: str
    role: str


class KeyIn(Schema):
    expires_in_s: int | None = Field(None, ge=60, le=10 * 365 * 86400, description="none: never expires")


def key_view(key: ApiKey) -> dict:
    return {
        "key_id": key.id,
        "prefix": key.prefix,
        "created_at": iso(key.created_at),
        "expires_at": iso(key.expires_at),
        "revoked_at": iso(key.revoked_at),
    }


def principal_router() -> Router:
    """`/v1/principals/me` on every service: who this key is, and its keys (rotate, revoke)."""
    router = Router(tags=["principals"])

    @router.get("/me", auth=any_principal, response=PrincipalOut)
    def principal_me(request):
        principal = request.auth
        return PrincipalOut(principal_id=principal.id, name=principal.name, role=principal.role)

    @router.get("/me/keys", auth=any_principal, response={200: dict, 422: Error})
    def keys_list(request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):
        """Your keys, oldest first, revoked and expired ones too (never the key itself: its prefix)."""
        count, keys = api_key_list(request.auth.id, limit=limit, offset=offset)
        return {"items": [key_view(k) for k in keys], "count": count}

    @router.post("/me/keys", auth=any_principal, response={201: dict, 422: Error})
    def keys_rotate(request, body: KeyIn):
        """A new key (shown once); the old ones keep working until you revoke them. A key that expires makes keys
        that expire no later than it does."""
        expires_at = timezone.now() + timedelta(seconds=body.expires_in_s) if body.expires_in_s else None
        calling_key = cast(str, api_key_from_request(request))  # any_principal let the request in: it has a key
        calling = ApiKey.objects.filter(key_hash=api_key_hash(calling_key))
        caller = calling.values_list("expires_at", flat=True).first()
        if caller is not None:
            expires_at = min(expires_at or caller, caller)
        issued = api_key_rotate(principal_id=request.auth.id, expires_at=expires_at)
        view = key_view(ApiKey.objects.get(id=cast(UUID, issued.key_id)))  # an issued key always has its id
        return Status(201, {**view, "key": issued.key})

    @router.delete("/me/keys/{key_id}", auth=any_principal, response={204: None, 404: Error})
    def keys_revoke(request, key_id: UUID):
        api_key_revoke(principal_id=request.auth.id, key_id=key_id)
        return HttpResponse(status=204)

    return router
