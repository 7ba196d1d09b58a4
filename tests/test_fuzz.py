"""schemathesis fuzzes each service's own OpenAPI document on the running stack, with a client, a miner and an
admin key: no server error, and no response outside the schema. Besides what each schema allows (and what it
does not: schemathesis's negative mode), tests/fuzz_hooks.py slips hostile values into bodies, queries and
paths, and real ids (of what earlier runs created) into paths. The seed changes from run to run; the header
of the test run prints it (AITBC_FUZZ_SEED replays it)."""

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import httpx
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


# A run that revokes its own key (it learns the id from GET /v1/principals/me/keys) tests nothing but 401s
# from then on: revocation is tested in tests/accounts, not here.
OWN_KEY_REVOKE = r"^/v1/principals/me/keys/\{key_id\}$"
# the fuzz keys' own key ids: revoking them would leave every later run with nothing but 401s
NOT_HANDED_OUT = frozenset(["key_id"])


def _ids_in(value, found: defaultdict) -> None:
    if isinstance(value, dict):
        for name, item in value.items():
            wanted = (name.endswith("_id") or name == "tx_hash") and name not in NOT_HANDED_OUT
            if wanted and isinstance(item, str | int) and len(found[name]) < 20:
                found[name].add(str(item))
            _ids_in(item, found)
    elif isinstance(value, list):
        for item in value:
            _ids_in(item, found)


def ids_seen(stack, key: str, path: Path) -> Path:
    """The ids this key sees in every list of every service (what earlier runs created), written to `path`
    for the hooks: operations on /{job_id} and the like then reach real objects, not only 404s."""
    found: defaultdict = defaultdict(set)
    headers = {"Authorization": f"Bearer {key}"}
    for service in DOMAINS:
        document = httpx.get(f"{stack.urls[service]}/v1/openapi.json", timeout=30).json()
        for route, operations in document["paths"].items():
            if "{" not in route and "get" in operations:
                answer = httpx.get(f"{stack.urls[service]}{route}", headers=headers, timeout=30)
                if answer.status_code == 200 and answer.headers.get("content-type", "").startswith("application/json"):
                    _ids_in(answer.json(), found)
    path.write_text(json.dumps({name: sorted(ids) for name, ids in found.items()}))
    return path


def fuzz_keys(stack) -> dict[str, str]:
    """One principal per role, the client and the miner with money, so that what costs money can succeed too."""
    principals = {role: stack.principal(role, f"fuzz-{role}") for role in ROLES}
    admin = {"Authorization": f"Bearer {principals['admin']['key']}"}
    for role in ("client", "miner"):
        credit = {"principal_id": principals[role]["principal_id"], "amount": "100000"}
        answer = httpx.post(f"{stack.urls['trading']}/v1/ledger/credits", json=credit, headers=admin, timeout=30)
        assert answer.status_code == 201, answer.text
    return {role: principal["key"] for role, principal in principals.items()}


def fuzz_service(stack, keys: dict[str, str], service: str, seed: str, logs: Path) -> list[str]:
    """Runs schemathesis on one service, a process per key side by side (its own worker threads race on 3.11);
    what failed, with the end of its output."""
    runs = {}
    for role, key in keys.items():
        ids = ids_seen(stack, key, logs / f"{service}-{role}-ids.json")
        env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.fuzz_hooks", "AITBC_FUZZ_IDS": str(ids)}
        out = (logs / f"{service}-{role}.log").open("w")
        runs[role] = (out, subprocess.Popen(
            [ST, "run", f"{stack.urls[service]}/v1/openapi.json", "-H", f"Authorization: Bearer {key}",
             "--checks", "not_a_server_error,response_schema_conformance", "--max-examples", str(EXAMPLES),
             "--phases", "coverage,fuzzing", "--seed", seed, "--workers", "1", "--no-color",
             "--exclude-path-regex", OWN_KEY_REVOKE],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=Path(__file__).parent.parent,
        ))  # fmt: skip
    failed = []
    try:
        for role, (out, fuzz) in runs.items():
            returncode = fuzz.wait(timeout=900)
            out.close()
            if returncode != 0:
                failed.append(f"--- {service}, {role} key:\n{(logs / f'{service}-{role}.log').read_text()[-4000:]}")
    finally:
        for _, fuzz in runs.values():
            if fuzz.poll() is None:
                fuzz.kill()
    for role, key in keys.items():  # else the later services' runs would test nothing but 401s
        me = httpx.get(f"{stack.urls[service]}/v1/principals/me", headers={"X-Api-Key": key}, timeout=30)
        if me.status_code != 200:
            failed.append(f"--- {service}: the {role} key no longer works after its run: {me.text}")
    return failed


def test_the_fuzzer_finds_no_server_error_and_no_answer_outside_the_schema_on_any_service(stack, tmp_path):
    # one test for every service: what one service's run creates (and the principals) outlive it for the next,
    # which a flush between tests would empty; the ledger is checked after it, as after every database test
    seed = os.environ["AITBC_FUZZ_SEED"]  # set by tests/conftest.py
    keys = fuzz_keys(stack)
    failed = [failure for service in DOMAINS for failure in fuzz_service(stack, keys, service, seed, tmp_path)]
    assert not failed, f"replay with AITBC_FUZZ_SEED={seed}\n" + "\n".join(failed)
