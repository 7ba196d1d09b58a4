import os
import random

import pytest
from django.test import Client

from apps.accounts.services import principal_create

# the fuzzer's seed: fresh each run unless one is given to replay (tests/test_fuzz.py)
os.environ.setdefault("AITBC_FUZZ_SEED", str(random.SystemRandom().randrange(2**31)))


def pytest_report_header(config):
    return f"fuzz seed: AITBC_FUZZ_SEED={os.environ['AITBC_FUZZ_SEED']}"


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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After every test that used the databases: every entry balances and all balances sum to the supply."""
    result = yield
    if item.get_closest_marker("django_db") and not item.get_closest_marker("ledger_tampered"):
        from apps.trading.services.ledger import ledger_check

        check = ledger_check()
        assert check.ok, f"the ledger does not add up after this test: {check}"
    return result


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs what the job pipeline defers to after commit (escrow release, dispatch) inside a test transaction."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True, using="ai"):
            return call(*args, **kwargs)

    return run


@pytest.fixture(autouse=True)
def fresh_parameters():
    """Each test starts from the parameters in its own database, not from another test's cache."""
    from apps.governance.facade import parameters_cache_clear

    parameters_cache_clear()
    yield
    parameters_cache_clear()


@pytest.fixture(scope="session", autouse=True)
def flush_survives_a_running_stack():
    """A transactional test's flush (TRUNCATE of every table) can deadlock with a live stack's sealer or
    sweep reading those tables; PostgreSQL then aborts one of the two. The flush is simply tried again."""
    import time

    from django.core.management import CommandError
    from django.db.utils import OperationalError
    from django.test import TransactionTestCase

    original = TransactionTestCase._fixture_teardown

    def teardown(self):
        for attempt in range(5):
            try:
                return original(self)
            except (OperationalError, CommandError):  # flush reports the deadlock as a CommandError
                if attempt == 4:
                    raise
                time.sleep(0.5)

    TransactionTestCase._fixture_teardown = teardown
    yield
    TransactionTestCase._fixture_teardown = original


@pytest.fixture
def edge_profiles(db):
    """The published edge GPU profiles the gpu migration seeds, again: a transactional test's flush empties them."""
    import importlib

    from apps.gpu.models import EdgeGpuProfile

    seed = importlib.import_module("apps.gpu.migrations.0003_edge_gpu_profiles_seed")
    for model, *values in seed.PROFILES:
        EdgeGpuProfile.objects.update_or_create(model=model, defaults=dict(zip(seed.FIELDS, values, strict=True)))


@pytest.fixture(scope="session", autouse=True)
def broker_users_dropped():
    """The broker users this run's miners got live in Redis, not in the test databases: they go with the run
    (only this run's: their names carry its Redis database)."""
    yield
    import redis
    from django.conf import settings

    from apps.gpu.broker import broker_users_prefix, redis_broker

    if redis_broker():
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        names = [n.decode() for n in client.execute_command("ACL", "USERS")]
        ours = [n for n in names if n.startswith(broker_users_prefix())]
        if ours:
            client.execute_command("ACL", "DELUSER", *ours)
