from django.contrib import admin

from apps.gpu.models import EdgeGpuProfile, GpuBooking, GpuReview


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that hold money or feed a GPU's rating: changed only through the services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(GpuBooking)
class GpuBookingAdmin(ReadOnlyAdmin):
    list_display = ("id", "status", "gpu_model", "gpu_count", "hours", "amount", "paid", "fee", "starts_at", "ends_at")
    list_filter = ("status",)
    search_fields = ("id", "key", "client_id", "miner_id", "escrow_key")


@admin.register(GpuReview)
class GpuReviewAdmin(ReadOnlyAdmin):
    list_display = ("gpu", "rating", "client_id", "created_at")
    list_filter = ("rating",)


@admin.register(EdgeGpuProfile)
class EdgeGpuProfileAdmin(admin.ModelAdmin):
    list_display = ("model", "category", "memory_mb", "tdp_w", "fp16_tflops", "bf16", "int8_tops")
    list_filter = ("category",)
    search_fields = ("model",)
