from django.contrib import admin

from aitbc_site.admin import OperatorActions, ReadOnlyAdmin, ReadOnlyInline
from apps.accounts.facade import operator_principal
from apps.gpu.models import EdgeGpuProfile, Gpu, GpuBooking, GpuReview, GpuSample, Miner
from apps.gpu.selectors.miners import miner_is_online
from apps.gpu.services.bookings import booking_release
from apps.gpu.services.miners import miner_deregister


class GpuInline(ReadOnlyInline):
    model = Gpu
    fields = ("model", "uuid", "memory_mb", "status", "utilization_gpu", "temperature_c", "last_seen_at")
    readonly_fields = fields


@admin.register(Miner)
class MinerAdmin(OperatorActions, ReadOnlyAdmin):
    """Miners change through registration, heartbeats and deregistration only."""

    list_display = ("name", "region", "mode", "status", "online", "last_heartbeat_at", "inflight", "unit_price",
                    "jobs_completed", "jobs_failed", "id")  # fmt: skip
    list_filter = ("status", "mode", "region")
    search_fields = ("id", "principal_id", "name")
    inlines = [GpuInline]
    actions = ["deregister"]

    @admin.display(boolean=True, description="online")
    def online(self, miner):
        return miner_is_online(miner)

    @admin.action(description="Deregister the selected miners (their jobs are requeued)", permissions=["operate"])
    def deregister(self, request, queryset):
        self.act_on_each(request, queryset, "deregistered", lambda miner: miner_deregister(miner=miner))


@admin.register(Gpu)
class GpuAdmin(ReadOnlyAdmin):
    list_display = ("model", "uuid", "miner", "memory_mb", "status", "utilization_gpu", "memory_used_mb",
                    "temperature_c", "power_w", "rating_average", "last_seen_at")  # fmt: skip
    list_filter = ("status", "model")
    search_fields = ("uuid", "model", "miner__name", "miner__id")
    list_select_related = ("miner",)


@admin.register(GpuSample)
class GpuSampleAdmin(ReadOnlyAdmin):
    list_display = ("gpu", "utilization_gpu", "memory_used_mb", "temperature_c", "power_w", "created_at")
    list_filter = ("gpu__model",)
    search_fields = ("gpu__uuid",)
    date_hierarchy = "created_at"
    list_select_related = ("gpu",)


@admin.register(GpuBooking)
class GpuBookingAdmin(OperatorActions, ReadOnlyAdmin):
    list_display = ("id", "status", "gpu_model", "gpu_count", "hours", "amount", "paid", "fee", "starts_at", "ends_at")
    list_filter = ("status", "gpu_model")
    search_fields = ("id", "key", "client_id", "miner_id", "escrow_key")
    actions = ["release"]

    @admin.action(description="Release the selected bookings (provider paid pro rata, the rest refunded)",
                  permissions=["operate"])  # fmt: skip
    def release(self, request, queryset):
        operator = operator_principal(request.user)
        self.act_on_each(
            request, queryset, "released", lambda booking: booking_release(client=operator, booking_id=booking.id)
        )


@admin.register(GpuReview)
class GpuReviewAdmin(ReadOnlyAdmin):
    list_display = ("gpu", "rating", "client_id", "created_at")
    list_filter = ("rating",)
    search_fields = ("gpu__uuid", "client_id", "booking_id")


@admin.register(EdgeGpuProfile)
class EdgeGpuProfileAdmin(admin.ModelAdmin):
    list_display = ("model", "category", "memory_mb", "tdp_w", "fp16_tflops", "bf16", "int8_tops")
    list_filter = ("category",)
    search_fields = ("model",)
