"""schemathesis fuzzes each service's own OpenAPI document on the running stack, with a client, a miner and an
admin key: no server error, and no response outside the schema. Besides what each schema allows (and what it
does not: schemathesis's negative mode), tests/fuzz_hooks.py slips hostile values into bodies, queries and
paths. The seed changes from run to run; the header of the test run prints it (AITBC_FUZZ_SEED replays it)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aitbc_site.domains import DOMAINS
from tests.stack import stack_running

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases="__all__", transaction=True)]
ST = str(Path(sys.executable).with_name("st"))  # schemathesis, from the test extras
EXAMPLES = int(os.environ.get("AITBC_FUZZ_EXAMPLES", "12"))  # per operation, per role


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker):
    # a fuzzer is a flood by design: the rate limits are not what is under test here
    limits = {f"AITBC_RATELIMIT_{role}": "1000000/minute" for role in ("CLIENT", "MINER", "ADMIN")}
    with stack_running(**limits) as running:
        yield running


ROLES = ("client", "miner", "admin")


@pytest.mark.parametrize("service", DOMAINS)
def test_the_fuzzer_finds_no_server_error_and_no_answer_outside_the_schema(stack, service, tmp_path):
    seed = os.environ["AITBC_FUZZ_SEED"]  # set by tests/conftest.py
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz_hooks"}
    runs = {}
    for role in ROLES:  # one process per role, side by side (schemathesis's own worker threads race on 3.11)
        key = stack.key(role, f"fuzz-{role}")
        out = (tmp_path / f"{role}.log").open("w")
        runs[role] = (out, subprocess.Popen(
            [ST, "run", f"{stack.urls[service]}/v1/openapi.json", "-H", f"Authorization: Bearer {key}",
             "--checks", "not_a_server_error,response_schema_conformance", "--max-examples", str(EXAMPLES),
             "--phases", "coverage,fuzzing", "--seed", seed, "--workers", "1", "--no-color"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=Path(__file__).parent.parent,
        ))  # fmt: skip
    failed = []
    try:
        for role, (out, fuzz) in runs.items():
            returncode = fuzz.wait(timeout=900)
            out.close()
            if returncode != 0:
                failed.append(f"--- {role} key:\n{(tmp_path / f'{role}.log').read_text()[-5000:]}")
    finally:
        for _, fuzz in runs.values():
            if fuzz.poll() is None:
                fuzz.kill()
    assert not failed, f"replay with AITBC_FUZZ_SEED={seed}\n" + "\n".join(failed)
