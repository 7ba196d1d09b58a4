from django.contrib import admin

from apps.plugin.models import Plugin, PluginInstall, PluginReview


@admin.register(Plugin)
class PluginAdmin(admin.ModelAdmin):
    """The sha256 is what miners are held to: it is never edited, only a new version registered (or yanked)."""

    list_display = ("name", "version", "kind", "entry_point", "owner_id", "yanked_at", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "description", "sha256")
    readonly_fields = ("id", "owner_id", "name", "version", "kind", "entry_point", "sha256", "created_at", "updated_at")

    def has_add_permission(self, request):
        return False  # through POST /v1/plugins/register, which checks names, owners and formats


@admin.register(PluginInstall)
class PluginInstallAdmin(admin.ModelAdmin):
    list_display = ("name", "version", "miner_id", "status", "updated_at")
    list_filter = ("status",)
    search_fields = ("name", "miner_id", "reported_sha256")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # verdicts come from the registry, reported by miners


@admin.register(PluginReview)
class PluginReviewAdmin(admin.ModelAdmin):
    list_display = ("plugin", "rating", "principal_id", "created_at")
    list_filter = ("rating",)

    def has_add_permission(self, request):
        return False
