"""The one authentication every service uses: `Authorization: Bearer KEY` or `X-Api-Key: KEY`."""

import time

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from aitbc_site.errors import Forbidden
from apps.accounts.facade import PrincipalView
from apps.accounts.keys import api_key_hash
from apps.accounts.ratelimit import rate_limit_take
from apps.accounts.selectors import KEY_MAX, principal_for_key

PRINCIPALS_REMEMBERED = 10_000
clock = time.monotonic
# key hash -> (principal, monotonic time until which it may be used without a lookup); oldest first
_principals: dict[str, tuple[PrincipalView, float]] = {}


def principals_forget() -> None:
    """Every remembered principal is looked up again (a key was revoked, a principal changed, in this process)."""
    _principals.clear()


def principals_changed(sender, **kwargs) -> None:
    """A signal receiver: a principal or key was saved or deleted."""
    principals_forget()


def principal_of_key(raw_key: str) -> PrincipalView | None:
    """The principal of a live key, remembered for AITBC_PRINCIPAL_CACHE_S: a key check without a query on most
    requests. Unknown keys are not remembered (the gateway remembers those)."""
    if settings.AITBC_PRINCIPAL_CACHE_S <= 0 or len(raw_key) > KEY_MAX or not raw_key.isascii():
        return principal_for_key(raw_key)
    hashed, now = api_key_hash(raw_key), clock()
    remembered = _principals.get(hashed)
    if remembered is not None and remembered[1] > now:
        return remembered[0]
    principal = principal_for_key(raw_key)
    _principals.pop(hashed, None)
    if principal is not None:
        while len(_principals) >= PRINCIPALS_REMEMBERED:
            del _principals[next(iter(_principals))]
        _principals[hashed] = (principal, now + settings.AITBC_PRINCIPAL_CACHE_S)
    return principal


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
        principal = principal_of_key(token)
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
