"""schemathesis fuzzes each service's own OpenAPI document, with a client key and with a miner key:
no server error, and no response outside the schema."""

import subprocess
import sys
from pathlib import Path

import pytest

from aitbc_site.domains import DOMAINS
from tests.stack import stack_running

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases="__all__", transaction=True)]
ST = str(Path(sys.executable).with_name("st"))  # schemathesis, from the test extras


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    # a fuzzer is a flood by design: the rate limits are not what is under test here
    limits = {f"AITBC_RATELIMIT_{role}": "1000000/minute" for role in ("CLIENT", "MINER", "ADMIN")}
    with stack_running(**limits) as running:
        yield running


@pytest.mark.parametrize("role", ["client", "miner"])
@pytest.mark.parametrize("service", DOMAINS)
def test_the_fuzzer_finds_no_server_error_and_no_answer_outside_the_schema(stack, service, role):
    key = stack.key(role, f"fuzz-{role}")
    fuzz = subprocess.run(
        [ST, "run", f"{stack.urls[service]}/v1/openapi.json", "-H", f"Authorization: Bearer {key}",
         "--checks", "not_a_server_error,response_schema_conformance", "--max-examples", "5",
         "--phases", "coverage,fuzzing", "--seed", "1"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert fuzz.returncode == 0, fuzz.stdout[-4000:]
