"""The block explorer: blocks, sealed transactions, receipts, the signing keys, verification and export."""

from typing import Annotated
from uuid import UUID

from ninja import Field, Query, Router

from aitbc_site.api import Error
from aitbc_site.errors import NotFound
from aitbc_site.inputs import INT64_MAX
from apps.accounts.auth import admins, any_principal
from apps.trading import signing
from apps.trading.selectors.blocks import (
    block_full,
    block_get,
    block_header,
    block_list,
    chain_export,
    chain_verify,
    transaction_get,
)
from apps.trading.selectors.receipts import receipt_get, receipt_list
from apps.trading.services.blocks import block_seal

Height = Annotated[int, Field(ge=0, le=INT64_MAX)]
ANYONE = "anyone"


def anyone(request) -> str:
    """For endpoints that serve callers without a key too (after any_principal found none)."""
    return ANYONE


def explorer_router(*, v1: bool) -> Router:
    """The block explorer: under /v1/explorer, and (v1=False) at the seed's old paths /blocks, /receipts, ..."""
    explorer = Router(tags=["explorer"])

    @explorer.get("/blocks")
    def explorer_blocks(request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):
        """Sealed blocks, newest first."""
        count, items = block_list(limit=limit, offset=offset)
        return {"items": items, "count": count}

    @explorer.get("/blocks/{ident}", response={200: dict, 404: Error, 422: Error})
    def explorer_block(request, ident: str):
        """One block, by height or by hash, with its items."""
        return block_full(block_get(ident))

    @explorer.get("/transactions/{tx_hash}", response={200: dict, 404: Error, 422: Error})
    def explorer_transaction(request, tx_hash: str):
        """A sealed ledger transaction or receipt by its item hash, with the block that holds it."""
        return transaction_get(tx_hash)

    @explorer.get("/receipts")
    def explorer_receipts(
        request,
        job_id: UUID | None = None,
        miner_id: UUID | None = None,
        client_id: UUID | None = None,
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0, le=1_000_000),
    ):
        """Signed job receipts, newest first, by job, miner or client."""
        count, items = receipt_list(job_id=job_id, miner_id=miner_id, client_id=client_id, limit=limit, offset=offset)
        return {"items": items, "count": count}

    @explorer.get("/receipts/{receipt_id}", response={200: dict, 404: Error})
    def explorer_receipt(request, receipt_id: UUID):
        receipt = receipt_get(receipt_id)
        if receipt is None:
            raise NotFound(f"no receipt {receipt_id}")
        return receipt

    if not v1:
        return explorer

    @explorer.get("/keys")
    def explorer_keys(request):
        """The platform's public signing keys: verify receipts and blocks with these only."""
        return {"keys": signing.published_keys()}

    @explorer.get("/verify", auth=[any_principal, anyone])
    def explorer_verify(request):
        """Re-verifies the whole chain and every stored receipt and transaction; names the first failure.

        Without a key the answer is the verification made at the current chain tip (`cached`: true, made once per
        new block, `verified_at` says when); with a key it is made now."""
        return chain_verify(fresh=request.auth is not ANYONE)

    @explorer.get("/export", auth=any_principal, response={200: dict, 401: Error, 422: Error})
    def explorer_export(request, from_height: Height = 0, limit: int = Query(100, ge=1, le=500)):
        """Blocks with their items, oldest first, for offline verification (a page of `limit` blocks)."""
        return {"blocks": chain_export(from_height=from_height, limit=limit)}

    @explorer.post("/seal", auth=admins, response={200: dict, 403: Error})
    def explorer_seal(request):
        """Seal what is new into a block now (beat does it every few seconds anyway)."""
        block = block_seal()
        return {"sealed": block is not None, "block": block_header(block) if block else None}

    return explorer
