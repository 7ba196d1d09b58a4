from uuid import UUID

from ninja import Router, Schema

from apps.accounts.auth import any_principal


class PrincipalOut(Schema):
    principal_id: UUID
    name: str
    role: str


def principal_router() -> Router:
    """`GET /v1/principals/me` on every service: who this key is."""
    router = Router(tags=["principals"])

    @router.get("/me", auth=any_principal, response=PrincipalOut)
    def principal_me(request):
        principal = request.auth
        return PrincipalOut(principal_id=principal.id, name=principal.name, role=principal.role)

    return router
