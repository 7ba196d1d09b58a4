"""The marketplace service's test client, and a funded client trading through it."""

import pytest

from tests import factories
from tests.marketplace.test_market import Trader


@pytest.fixture
def http(service_client):
    return service_client("marketplace")


@pytest.fixture
def client(http):
    return Trader(http, *factories.funded_client("1000"))
