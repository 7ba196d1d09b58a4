"""Principals and their keys for tests, through the same services the API calls."""

import uuid

import pytest

from apps.accounts.selectors import principal_for_key
from apps.accounts.services import principal_create


def principal(role: str = "client", name: str | None = None):
    issued = principal_create(name=name or f"{role}-{uuid.uuid4().hex[:6]}", role=role)
    return principal_for_key(issued.key), issued.key


@pytest.fixture
def make_key(db):
    """make_key("client") -> (principal_id, key)."""

    def make(role: str = "client", name: str | None = None):
        issued = principal_create(name=name or f"test-{role}", role=role)
        return issued.principal_id, issued.key

    return make


@pytest.fixture
def admin_key(make_key):
    """The key of an admin (the operators' dashboard and actions are for admins)."""
    return make_key("admin")[1]
