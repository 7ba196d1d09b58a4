"""A funded client trading through the marketplace service."""

import pytest

from tests.marketplace.helpers import Trader
from tests.trading import factories as trading_factories


@pytest.fixture
def client(api):
    return Trader(api, *trading_factories.funded_client("1000"))
