"""The explorer over HTTP and the CLI's offline verification."""

import json

import pytest

from apps.trading import signing
from apps.trading.models import BlockItem, Receipt
from apps.trading.selectors import blocks as explorer
from apps.trading.selectors.blocks import chain_export
from apps.trading.services.blocks import block_seal
from tests.ai.factories import completed_job
from tests.processes import process_env, run_aitbc

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def sealed(api):
    completed_job()
    block = block_seal()
    return api("trading"), block


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


def test_only_an_admin_may_seal_on_demand(api, sealed, make_key):
    trading, _ = sealed
    _, client = make_key("client")
    _, admin = make_key("admin")
    assert api("trading", client).post("/v1/explorer/seal").status_code == 403
    completed_job()
    sealed_now = api("trading", admin).post("/v1/explorer/seal").json()
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


def test_anonymous_verifies_are_made_once_per_chain_tip_and_keyed_ones_now(api, sealed, make_key, monkeypatch):
    trading, _ = sealed
    runs = []
    real = explorer.chain_verify_stored
    monkeypatch.setattr(explorer, "chain_verify_stored", lambda: runs.append(1) or real())
    # given three anonymous verifies at one chain tip: one verification answers them all
    reports = [trading.get("/v1/explorer/verify").json() for _ in range(3)]
    assert len(runs) == 1
    assert all(r["valid"] and r["cached"] for r in reports) and len({r["verified_at"] for r in reports}) == 1
    # when a sealed receipt is changed in the database
    receipt = Receipt.objects.get()
    Receipt.objects.filter(id=receipt.id).update(body={**receipt.body, "price": "0.00000001"})
    # then anonymous callers get the verification made at this tip, and a caller with a key one made now
    assert trading.get("/v1/explorer/verify").json()["valid"] is True
    _, key = make_key("client")
    fresh = api("trading", key).get("/v1/explorer/verify").json()
    assert (fresh["valid"], fresh["cached"], fresh["height"]) == (False, False, 0)
    assert f"receipt {receipt.id}" in fresh["problem"]
    # and once a new block is sealed, anonymous callers get a verification of the new tip
    completed_job()
    block_seal()
    anonymous = trading.get("/v1/explorer/verify").json()
    assert (anonymous["valid"], anonymous["cached"], anonymous["height"]) == (False, True, 0)
    assert len(runs) == 3


def test_what_waits_to_be_sealed_is_counted_fresh_in_a_kept_verification(sealed):
    trading, _ = sealed
    assert trading.get("/v1/explorer/verify").json()["unsealed_receipts"] == 0
    completed_job()
    report = trading.get("/v1/explorer/verify").json()
    assert (report["cached"], report["unsealed_receipts"], report["sealed_receipts"]) == (True, 1, 1)


def test_the_chain_export_needs_a_key_and_pages_the_blocks(api, sealed, make_key):
    trading, block = sealed
    assert trading.get("/v1/explorer/export").status_code == 401
    completed_job()
    newer = block_seal()
    _, key = make_key("client")
    page = api("trading", key).get("/v1/explorer/export", {"limit": 1, "from_height": 1}).json()
    assert [b["height"] for b in page["blocks"]] == [newer.height]
    assert len(page["blocks"][0]["items"]) == newer.tx_count
