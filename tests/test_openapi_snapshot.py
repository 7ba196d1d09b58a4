"""Each service's OpenAPI document against its stored snapshot, so a contract change is always deliberate.

After a deliberate change: `AITBC_UPDATE_OPENAPI=1 python -m pytest tests/test_openapi_snapshot.py`, then
review the diff of tests/openapi/ with the change.
"""

import json
import os
from pathlib import Path

import pytest
from django.test import Client
from django.test.utils import override_settings

from aitbc_site.domains import DOMAINS

SNAPSHOTS = Path(__file__).parent / "openapi"


def document_of(service: str) -> dict:
    with override_settings(ROOT_URLCONF=f"aitbc_site.urls.{service}", AITBC_SERVICE=service):
        return Client().get("/v1/openapi.json").json()


@pytest.mark.parametrize("service", DOMAINS)
def test_the_openapi_document_matches_its_snapshot(service):
    snapshot = SNAPSHOTS / f"{service}.json"
    document = document_of(service)
    if os.environ.get("AITBC_UPDATE_OPENAPI"):
        snapshot.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    assert document == json.loads(snapshot.read_text()), (
        f"{service}'s API changed; if deliberate, run AITBC_UPDATE_OPENAPI=1 pytest {__file__}"
    )
