"""The explorer over HTTP and the CLI's offline verification."""

import json

import pytest

from apps.trading import signing
from apps.trading.explorer import chain_export
from apps.trading.models import BlockItem
from apps.trading.services.blocks import block_seal
from tests.processes import process_env, run_aitbc
from tests.trading.test_blocks import completed_job

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def sealed(service_client):
    completed_job()
    block = block_seal()
    return service_client("trading"), block


def test_blocks_are_listed_newest_first_and_found_by_height_or_hash(sealed):
    trading, block = sealed
    completed_job()
    newer = block_seal()
    page = trading.get("/v1/explorer/blocks").json()
    assert [b["height"] for b in page["items"]] == [newer.height, block.height]
    by_height = trading.get(f"/v1/explorer/blocks/{block.height}").json()
    by_hash = trading.get(f"/v1/explorer/blocks/{block.hash}").json()
    assert by_height == by_hash
    assert len(by_height["items"]) == block.tx_count
    assert set(by_height) >= {"height", "prev_hash", "merkle_root", "sealed_at", "tx_count", "hash", "signature"}


def test_the_seed_paths_serve_the_same_explorer(sealed):
    trading, block = sealed
    assert trading.get(f"/blocks/{block.height}").json() == trading.get(f"/v1/explorer/blocks/{block.height}").json()
    assert trading.get("/blocks").json()["count"] == 1
    assert trading.get("/receipts").json()["count"] == 1
    item = BlockItem.objects.filter(kind="transaction").first()
    assert trading.get(f"/transactions/{item.hash}").json()["block_height"] == block.height


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/explorer/blocks/999", 404),
        ("/v1/explorer/blocks/" + "a" * 64, 404),
        ("/v1/explorer/blocks/not-a-hash", 422),
        ("/v1/explorer/transactions/" + "b" * 64, 404),
        ("/v1/explorer/transactions/xyz", 422),
        ("/transactions/xyz", 422),
    ],
)
def test_unknown_heights_and_hashes_are_404_and_malformed_ones_422(sealed, path, status):
    trading, _ = sealed
    response = trading.get(path)
    assert response.status_code == status
    assert response.json()["code"] in ("not_found", "validation_error")


def test_a_transaction_is_found_by_its_hash_with_its_block(sealed):
    trading, block = sealed
    item = BlockItem.objects.filter(kind="receipt").first()
    found = trading.get(f"/v1/explorer/transactions/{item.hash}").json()
    assert (found["kind"], found["block_height"], found["body"]) == ("receipt", block.height, item.body)


def test_verify_over_http_says_valid_and_counts_receipts(sealed):
    trading, _ = sealed
    report = trading.get("/v1/explorer/verify").json()
    assert report | {"valid": True, "height": 0, "checked_blocks": 1, "sealed_receipts": 1} == report


def test_only_an_admin_may_seal_on_demand(sealed, make_key):
    trading, _ = sealed
    _, client = make_key("client")
    _, admin = make_key("admin")
    assert trading.post("/v1/explorer/seal", headers={"X-Api-Key": client}).status_code == 403
    completed_job()
    sealed_now = trading.post("/v1/explorer/seal", headers={"X-Api-Key": admin}).json()
    assert sealed_now["sealed"] is True and sealed_now["block"]["height"] == 1


def test_an_exported_chain_verifies_offline_with_only_the_public_key(sealed, tmp_path):
    chain_file = tmp_path / "chain.json"
    chain_file.write_text(json.dumps({"blocks": chain_export(from_height=0, limit=100)}))
    public_key = signing.published_keys()[0]["public_key"]
    env = process_env(tmp_path, embedded=True, AITBC_URL="http://127.0.0.1:1")  # no platform to ask
    ok = run_aitbc(["explorer", "verify", "--file", str(chain_file), "--public-key", public_key, "--json"], env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["valid"] is True

    chain = json.loads(chain_file.read_text())
    chain["blocks"][0]["items"][0]["body"]["memo"] = "rewritten"
    chain_file.write_text(json.dumps(chain))
    bad = run_aitbc(["explorer", "verify", "--file", str(chain_file), "--public-key", public_key], env)
    assert bad.returncode == 1
    assert "INVALID at block 0" in bad.stdout
