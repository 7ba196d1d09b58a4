from django.contrib import admin

from aitbc_site.admin import ReadOnlyAdmin
from apps.marketplace.models import Bid, Fill, Offer


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = ("id", "gpu_model", "gpu_count", "gpu_memory_gb", "region", "price_per_hour", "hours",
                    "remaining_hours", "status", "created_at")  # fmt: skip
    list_filter = ("status", "gpu_class", "region")
    search_fields = ("id", "miner_id", "provider_id", "gpu_model")
    date_hierarchy = "created_at"


@admin.register(Bid)
class BidAdmin(ReadOnlyAdmin):
    list_display = ("id", "gpu_model", "gpu_count", "min_gpu_memory_gb", "region", "max_price_per_hour", "hours",
                    "remaining_hours", "status", "created_at")  # fmt: skip
    list_filter = ("status", "gpu_class", "region")
    search_fields = ("id", "client_id", "gpu_model")
    date_hierarchy = "created_at"


@admin.register(Fill)
class FillAdmin(ReadOnlyAdmin):
    list_display = ("id", "offer", "bid", "price_per_hour", "hours", "gpu_count", "amount", "status", "booking_id",
                    "created_at")  # fmt: skip
    list_filter = ("status",)
    search_fields = ("id", "offer__id", "bid__id", "booking_id")
    list_select_related = ("offer", "bid")
