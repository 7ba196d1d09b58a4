from django.contrib import admin

from apps.monitoring.models import WorkerProbe


@admin.register(WorkerProbe)
class WorkerProbeAdmin(admin.ModelAdmin):
    list_display = ("id", "hostname", "pid", "sent_at", "created_at")
    search_fields = ("hostname",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
