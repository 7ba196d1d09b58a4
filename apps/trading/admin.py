"""The trading domain in the admin: the ledger, receipts, blocks and trades are all read-only (they change
only through the ledger and trade services); blocks can be sealed on demand, as the explorer's POST /seal does."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_POST

from aitbc_site.admin import OperatorActions, ReadOnlyAdmin, ReadOnlyInline
from apps.trading.models import (
    Account,
    Block,
    BlockItem,
    Entry,
    Hold,
    Posting,
    Receipt,
    TradeAgreement,
    TradeEvent,
    TradeMatch,
    TradeMilestone,
    TradeRequest,
    TradeSettlement,
)
from apps.trading.services.blocks import block_seal


class PostingInline(ReadOnlyInline):
    model = Posting
    fields = ("account", "amount")
    readonly_fields = fields


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "owner_id", "balance", "updated_at")
    list_filter = ("kind",)
    search_fields = ("id", "owner_id")


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("key", "kind", "reference", "memo", "block_height", "created_at")
    list_filter = ("kind",)
    search_fields = ("id", "key", "reference", "memo")
    date_hierarchy = "created_at"
    inlines = [PostingInline]


@admin.register(Posting)
class PostingAdmin(ReadOnlyAdmin):
    list_display = ("entry", "account", "amount", "created_at")
    list_filter = ("entry__kind", "account__kind")
    search_fields = ("entry__key", "account__owner_id")
    list_select_related = ("entry", "account")


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ("key", "account", "amount", "status", "created_at", "updated_at")
    list_filter = ("status",)
    search_fields = ("key", "account__owner_id")
    list_select_related = ("account",)


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ("id", "job_id", "miner_id", "client_id", "block_height", "created_at")
    search_fields = ("id", "job_id", "miner_id", "client_id")
    date_hierarchy = "created_at"


class BlockItemInline(ReadOnlyInline):
    model = BlockItem
    fields = ("position", "kind", "hash", "ref_id")
    readonly_fields = fields


@admin.register(Block)
class BlockAdmin(OperatorActions, ReadOnlyAdmin):
    list_display = ("height", "hash", "prev_hash", "tx_count", "sealed_at")
    search_fields = ("=height", "hash", "prev_hash", "merkle_root")
    inlines = [BlockItemInline]

    def get_urls(self):
        seal = self.admin_site.admin_view(require_POST(self.seal_view))
        return [path("seal/", seal, name="trading_block_seal"), *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "can_seal": self.has_operate_permission(request)}
        return super().changelist_view(request, extra_context=extra)

    def seal_view(self, request):
        """Seal now: what POST /v1/explorer/seal does."""
        if not self.has_operate_permission(request):
            raise PermissionDenied
        block = block_seal()
        if block is None:
            self.message_user(request, "nothing new to seal", messages.INFO)
        else:
            self.message_user(request, f"sealed block {block.height} with {block.tx_count} items", messages.SUCCESS)
        return redirect("admin:trading_block_changelist")


@admin.register(BlockItem)
class BlockItemAdmin(ReadOnlyAdmin):
    list_display = ("block", "position", "kind", "hash", "ref_id")
    list_filter = ("kind",)
    search_fields = ("hash", "ref_id")
    list_select_related = ("block",)


class MatchInline(ReadOnlyInline):
    model = TradeMatch
    fields = ("seller_id", "price", "settlement", "score", "status", "rounds", "expires_at")
    readonly_fields = fields


@admin.register(TradeRequest)
class TradeRequestAdmin(ReadOnlyAdmin):
    list_display = ("title", "trade_type", "buyer_id", "budget", "status", "created_at")
    list_filter = ("status", "trade_type")
    search_fields = ("id", "title", "buyer_id")
    inlines = [MatchInline]


@admin.register(TradeMatch)
class TradeMatchAdmin(ReadOnlyAdmin):
    list_display = ("id", "request", "seller_id", "price", "settlement", "score", "status", "created_at")
    list_filter = ("status", "settlement")
    search_fields = ("id", "seller_id", "request__title")
    list_select_related = ("request",)


class MilestoneInline(ReadOnlyInline):
    model = TradeMilestone
    fields = ("position", "title", "amount", "settled")
    readonly_fields = fields


class SettlementInline(ReadOnlyInline):
    model = TradeSettlement
    fields = ("key", "amount", "fee", "entry_id", "created_at")
    readonly_fields = fields


@admin.register(TradeAgreement)
class TradeAgreementAdmin(ReadOnlyAdmin):
    list_display = ("id", "origin", "buyer_id", "seller_id", "price", "settlement", "settled_amount", "status",
                    "created_at")  # fmt: skip
    list_filter = ("status", "origin", "settlement")
    search_fields = ("id", "buyer_id", "seller_id", "fill_id")
    inlines = [MilestoneInline, SettlementInline]


@admin.register(TradeMilestone)
class TradeMilestoneAdmin(ReadOnlyAdmin):
    list_display = ("agreement", "position", "title", "amount", "settled")
    list_filter = ("settled",)
    search_fields = ("title", "agreement__id")


@admin.register(TradeSettlement)
class TradeSettlementAdmin(ReadOnlyAdmin):
    list_display = ("key", "agreement", "amount", "fee", "entry_id", "created_at")
    search_fields = ("key", "agreement__id", "entry_id")


@admin.register(TradeEvent)
class TradeEventAdmin(ReadOnlyAdmin):
    list_display = ("kind", "buyer_id", "seller_id", "request_id", "agreement_id", "created_at")
    list_filter = ("kind",)
    search_fields = ("buyer_id", "seller_id", "request_id", "agreement_id")
    date_hierarchy = "created_at"
