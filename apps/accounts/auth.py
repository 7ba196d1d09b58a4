"""The one authentication every service uses: `Authorization: Bearer KEY` or `X-Api-Key: KEY`."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from aitbc_site.errors import Forbidden
from apps.accounts.facade import PrincipalView
from apps.accounts.ratelimit import rate_limit_take
from apps.accounts.selectors import principal_for_key


def api_key_from_request(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-Api-Key") or None


class ApiKeyAuth(HttpBearer):
    """Authenticates by API key; with roles given, any other role gets 403."""

    def __init__(self, *roles: str):
        super().__init__()
        self.roles = frozenset(roles)

    def __call__(self, request: HttpRequest) -> PrincipalView | None:
        key = api_key_from_request(request)
        if not key:
            return None
        return self.authenticate(request, key)

    def authenticate(self, request: HttpRequest, token: str) -> PrincipalView | None:
        principal = principal_for_key(token)
        if principal is None:
            return None
        if self.roles and principal.role not in self.roles:
            allowed = " or ".join(sorted(self.roles))
            raise Forbidden(f"this endpoint is for {allowed} keys; yours is a {principal.role} key")
        rate_limit_take(principal)
        request.principal = principal  # type: ignore[attr-defined]  # our own attribute: the stubs know only Django's
        return principal


any_principal = ApiKeyAuth()
clients = ApiKeyAuth("client", "admin")
miners = ApiKeyAuth("miner")
admins = ApiKeyAuth("admin")
