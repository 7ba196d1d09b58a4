"""The plugin service's router: the registry, its marketplace listing, installs, reviews and analytics."""

from apps.plugin.api.plugins import router

__all__ = ["router"]
