from django.contrib import admin

from aitbc_site.admin import ReadOnlyAdmin
from apps.monitoring.models import QueueSample, ServiceSample, WorkerProbe


@admin.register(WorkerProbe)
class WorkerProbeAdmin(admin.ModelAdmin):
    list_display = ("id", "hostname", "pid", "sent_at", "created_at", "latency")
    list_filter = ("hostname",)
    search_fields = ("hostname", "id")
    date_hierarchy = "created_at"

    @admin.display(description="broker round trip (ms)")
    def latency(self, probe):
        return round(probe.latency_ms, 1)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ServiceSample)
class ServiceSampleAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "service", "status", "status_code", "latency_ms", "error")
    list_filter = ("service", "status")
    date_hierarchy = "created_at"


@admin.register(QueueSample)
class QueueSampleAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "queue", "depth")
    list_filter = ("queue",)
    search_fields = ("queue",)
    date_hierarchy = "created_at"
