"""The principal endpoints every service serves under /v1/principals (its key, rotation, revocation)."""

from apps.accounts.api.principals import principal_router

__all__ = ["principal_router"]
