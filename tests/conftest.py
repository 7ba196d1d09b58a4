import pytest
from django.test import Client

from apps.accounts.services import principal_create


@pytest.fixture
def make_key(db):
    """make_key("client") -> (principal_id, key)."""

    def make(role: str = "client", name: str | None = None):
        issued = principal_create(name=name or f"test-{role}", role=role)
        return issued.principal_id, issued.key

    return make


@pytest.fixture
def service_client(settings):
    """service_client("gpu") -> a Django test client for that service's URLconf."""

    def make(service: str) -> Client:
        settings.ROOT_URLCONF = f"aitbc_site.urls.{service}"
        settings.AITBC_SERVICE = service
        return Client()

    return make
