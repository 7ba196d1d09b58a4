"""Hooks fail closed: every declared hook has exactly one provider once the apps are loaded."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from aitbc_site.hooks import Hook


def test_every_declared_hook_has_a_provider():
    assert [name for name, hook in Hook.declared.items() if not hook.provided] == []


def test_a_hook_without_a_provider_or_with_two_fails_loudly():
    hook = Hook("tests.unprovided")
    try:
        with pytest.raises(ImproperlyConfigured, match="no provider"):
            hook()
        hook.provide(lambda: "first")
        with pytest.raises(ImproperlyConfigured, match="already has a provider"):
            hook.provide(lambda: "second")
        assert hook() == "first"
    finally:
        del Hook.declared["tests.unprovided"]
