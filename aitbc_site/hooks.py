"""Hooks: a lower app declares a call it needs from a higher one; the higher app provides it in its
`AppConfig.ready()` (design/layers.md). Calling a hook nothing provides, or providing one twice, fails loudly."""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured


class Hook:
    declared: dict[str, "Hook"] = {}

    def __init__(self, name: str):
        if name in Hook.declared:
            raise ImproperlyConfigured(f"hook {name} is declared twice")
        self.name = name
        self._provider: Callable | None = None
        Hook.declared[name] = self

    def provide(self, provider: Callable) -> Callable:
        if self._provider is not None:
            raise ImproperlyConfigured(f"hook {self.name} already has a provider: {self._provider.__qualname__}")
        self._provider = provider
        return provider

    @property
    def provided(self) -> bool:
        return self._provider is not None

    def __call__(self, *args, **kwargs):
        if self._provider is None:
            raise ImproperlyConfigured(f"hook {self.name} has no provider: is the app that provides it installed?")
        return self._provider(*args, **kwargs)
