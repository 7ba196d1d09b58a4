"""What every domain's admin.py shares: read-only admins for rows that only services may change, and
operator actions that call the same services as the API."""

from typing import TYPE_CHECKING

from django.contrib import admin, messages

from aitbc_site.errors import ApiError

if TYPE_CHECKING:  # what the mixin is always combined with, so that mypy knows self.model and self.message_user
    _MixedInto = admin.ModelAdmin
else:
    _MixedInto = object


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that hold money, receipts, blocks or state that only the services change: view only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Child rows shown under their parent, never edited there."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OperatorActions(_MixedInto):
    """Mixin for admins with actions that act through the services: `allowed_permissions=("operate",)`
    lets superusers and staff with the model's change permission run them."""

    def has_operate_permission(self, request) -> bool:
        opts = self.model._meta
        return request.user.is_superuser or request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def act_on_each(self, request, queryset, verb: str, act) -> None:
        """Calls `act(obj)` for each selected row; reports what happened and each refusal with its reason."""
        done, refused = 0, []
        for obj in queryset:
            try:
                act(obj)
                done += 1
            except ApiError as error:
                refused.append(f"{obj}: {error.detail}")
        if done:
            self.message_user(request, f"{verb} {done} of {len(queryset)}", messages.SUCCESS)
        for reason in refused:
            self.message_user(request, reason, messages.ERROR)
