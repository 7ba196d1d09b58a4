"""Each service's OpenAPI document against its stored snapshot, so a contract change is always deliberate.

After a deliberate change: `AITBC_UPDATE_OPENAPI=1 python -m pytest tests/test_openapi_snapshot.py`, then
review the diff of tests/openapi/ with the change.
"""

import json
import os
from pathlib import Path

import pytest

from aitbc_site.domains import DOMAINS

SNAPSHOTS = Path(__file__).parent / "openapi"


def document_of(api, service: str) -> dict:
    return api(service).get("/v1/openapi.json").json()


@pytest.mark.parametrize("service", DOMAINS)
def test_the_openapi_document_matches_its_snapshot(api, service):
    snapshot = SNAPSHOTS / f"{service}.json"
    document = document_of(api, service)
    if os.environ.get("AITBC_UPDATE_OPENAPI"):
        snapshot.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    assert document == json.loads(snapshot.read_text()), (
        f"{service}'s API changed; if deliberate, run AITBC_UPDATE_OPENAPI=1 pytest {__file__}"
    )


@pytest.mark.parametrize("service", DOMAINS)
def test_operation_ids_name_the_service_and_function_only_so_moving_a_view_keeps_the_contract(api, service):
    paths_of: dict[str, set] = {}
    for path, methods in document_of(api, service)["paths"].items():
        for op in methods.values():
            paths_of.setdefault(op["operationId"], set()).add(path)
    assert all(len(paths) == 1 for paths in paths_of.values()), f"{service}: two views share an operationId"
    assert all(i.startswith(f"{service}_") and "apps_" not in i for i in paths_of)
