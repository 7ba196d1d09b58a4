import os
import random

import pytest

# fixture modules, so that what they define is there in every test (Saleor, cookiecutter-django): the API client
# and each domain's factories (a module after those it imports, so that pytest rewrites the asserts of each)
pytest_plugins = [
    "tests.clients",
    "tests.accounts.factories",
    "tests.trading.factories",
    "tests.gpu.factories",
    "tests.ai.factories",
]

# the fuzzer's seed: fresh each run unless one is given to replay (tests/test_fuzz.py)
os.environ.setdefault("AITBC_FUZZ_SEED", str(random.SystemRandom().randrange(2**31)))


def pytest_report_header(config):
    return f"fuzz seed: AITBC_FUZZ_SEED={os.environ['AITBC_FUZZ_SEED']}"


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
    """Each test starts from the parameters and keys in its own database, not from another test's caches."""
    from aitbc_site.parameters import parameters_cache_clear
    from apps.accounts.auth import principals_forget
    from apps.ai.selectors.jobs import waiting_miners_forget

    for forget in (parameters_cache_clear, principals_forget, waiting_miners_forget):
        forget()
    yield
    for forget in (parameters_cache_clear, principals_forget, waiting_miners_forget):
        forget()


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


@pytest.fixture(scope="session", autouse=True)
def broker_users_dropped():
    """The broker users this run's miners got live in Redis, not in the test databases: they go with the run
    (only this run's: their names carry its Redis database)."""
    yield
    import redis
    from django.conf import settings

    from apps.gpu.services.broker import broker_users_prefix, redis_broker

    if redis_broker():
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        names = [n.decode() for n in client.execute_command("ACL", "USERS")]
        ours = [n for n in names if n.startswith(broker_users_prefix())]
        if ours:
            client.execute_command("ACL", "DELUSER", *ours)
