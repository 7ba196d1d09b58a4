from django.contrib import admin, messages

from aitbc_site.admin import OperatorActions, ReadOnlyAdmin, ReadOnlyInline
from apps.accounts.models import ApiKey, IdempotencyRecord, Principal
from apps.accounts.services import api_key_revoke, principal_revoke


class ApiKeyInline(ReadOnlyInline):
    model = ApiKey
    fields = ("prefix", "created_at", "expires_at", "revoked_at")
    readonly_fields = fields


@admin.register(Principal)
class PrincipalAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "is_active", "id", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("name", "id")
    readonly_fields = ("id", "created_at", "updated_at")
    inlines = [ApiKeyInline]
    actions = ["revoke_keys"]

    @admin.action(description="Revoke every key of the selected principals")
    def revoke_keys(self, request, queryset):
        revoked = sum(principal_revoke(principal_id=p.id) for p in queryset)
        self.message_user(request, f"revoked {revoked} keys", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(OperatorActions, admin.ModelAdmin):
    list_display = ("prefix", "principal", "created_at", "expires_at", "revoked_at")
    list_filter = ("principal__role", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("prefix", "principal__name")
    readonly_fields = ("prefix", "key_hash", "principal", "created_at", "updated_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revoke the selected keys", permissions=["operate"])
    def revoke(self, request, queryset):
        self.act_on_each(
            request, queryset, "revoked", lambda key: api_key_revoke(principal_id=key.principal_id, key_id=key.id)
        )


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(ReadOnlyAdmin):
    list_display = ("key", "principal_id", "path", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("key", "principal_id", "path")
