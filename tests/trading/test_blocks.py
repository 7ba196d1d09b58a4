"""The block log: sealing, the explorer, and verification that names what was tampered with."""

import base64
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aitbc_client.canonical import canonical_json
from aitbc_client.chain import GENESIS_PREV_HASH, chain_verify, header_hash, item_hash, merkle_root
from apps.trading import signing
from apps.trading.models import Block, BlockItem, Entry, Posting, Receipt
from apps.trading.selectors.blocks import chain_export, chain_verify_stored
from apps.trading.services.blocks import block_seal
from tests.ai.factories import completed_job
from tests.concurrency import at_once

pytestmark = pytest.mark.django_db(databases="__all__")


def test_merkle_roots_follow_the_contract():
    a, b, c = (item_hash({"n": n}) for n in range(3))
    h = lambda x, y: __import__("hashlib").sha256(bytes.fromhex(x) + bytes.fromhex(y)).hexdigest()  # noqa: E731
    assert merkle_root([]) == __import__("hashlib").sha256(b"").hexdigest()
    assert merkle_root([a]) == a
    assert merkle_root([a, b]) == h(a, b)
    assert merkle_root([a, b, c]) == h(h(a, b), h(c, c))


def test_sealing_puts_every_receipt_and_transaction_into_a_signed_chained_block():
    job = completed_job()
    first = block_seal()
    assert first.height == 0 and first.prev_hash == GENESIS_PREV_HASH
    kinds = list(BlockItem.objects.filter(block=first).values_list("kind", flat=True))
    assert kinds.count("receipt") == 1
    assert kinds.count("transaction") == Entry.objects.count()  # genesis, credit, job payment
    assert Receipt.objects.get(job_id=job.id).block_height == 0
    assert block_seal() is None  # nothing new, no block

    completed_job()
    second = block_seal()
    assert (second.height, second.prev_hash) == (1, first.hash)
    header = {k: getattr(second, k) for k in ("height", "prev_hash", "merkle_root", "sealed_at", "tx_count")}
    assert header_hash(header) == second.hash
    assert chain_verify(chain_export(from_height=0, limit=10), signing.published_keys())["valid"] is True
    assert chain_verify_stored() | {"valid": True, "checked_blocks": 2, "unsealed_receipts": 0} == chain_verify_stored()


def tampered(edit) -> dict:
    completed_job()
    block_seal()
    completed_job()
    block_seal()
    edit()
    return chain_verify_stored()


@pytest.mark.ledger_tampered
def test_an_edited_ledger_row_is_named_with_its_block():
    report = tampered(lambda: Posting.objects.filter(entry__kind="job_payment", amount__gt=0).update(amount=Decimal(9)))
    first_payment = Entry.objects.get(kind="job_payment", block_height=0)
    assert report["valid"] is False
    assert report["height"] == 0
    assert f"transaction {first_payment.id}" in report["problem"]
    assert "was changed after it was sealed" in report["problem"]


def test_an_edited_receipt_is_caught():
    def edit():
        receipt = Receipt.objects.order_by("created_at").last()
        receipt.body = {**receipt.body, "price": "0.00000001"}
        receipt.save()

    report = tampered(edit)
    assert (report["valid"], report["height"]) == (False, 1)
    assert "receipt" in report["problem"]


def test_an_edited_block_is_caught():
    report = tampered(lambda: Block.objects.filter(height=1).update(merkle_root="0" * 64))
    assert (report["valid"], report["height"]) == (False, 1)
    assert "Merkle" in report["problem"]


def test_an_edited_sealed_item_is_caught():
    def edit():
        item = BlockItem.objects.filter(block_id=0, kind="transaction").first()
        item.body = {**item.body, "memo": "nothing to see"}
        item.save()

    report = tampered(edit)
    assert (report["valid"], report["height"]) == (False, 0)
    assert "does not match its hash" in report["problem"]


def test_a_receipt_signed_by_another_key_fails_verification():
    completed_job()
    block_seal()
    chain = chain_export(from_height=0, limit=10)
    receipt_item = next(i for i in chain[0]["items"] if i["kind"] == "receipt")
    body = {k: v for k, v in receipt_item["body"].items() if k != "signature"}
    forger = Ed25519PrivateKey.generate()
    forged_sig = base64.b64encode(forger.sign(canonical_json(body))).decode()
    receipt_item["body"]["signature"] = {**receipt_item["body"]["signature"], "sig": forged_sig}
    receipt_item["hash"] = item_hash(receipt_item["body"])
    report = chain_verify(chain, signing.published_keys())
    assert report["valid"] is False
    assert "signature does not match" in report["problem"]


def test_a_chain_checked_with_another_public_key_fails():
    completed_job()
    block_seal()
    other = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw()).decode()
    from aitbc_client.chain import public_key_entry

    report = chain_verify(chain_export(from_height=0, limit=10), [public_key_entry(other)])
    assert report["valid"] is False


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_two_sealers_racing_make_one_chain():
    for _ in range(3):
        completed_job()
    sealed = [block for block in at_once(block_seal) if block is not None]
    assert len(sealed) == 1
    assert Block.objects.count() == 1
    assert Receipt.objects.filter(block_height__isnull=True).count() == 0
    assert chain_verify_stored()["valid"] is True
