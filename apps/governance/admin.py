from django.contrib import admin

from apps.governance.models import Parameter


@admin.register(Parameter)
class ParameterAdmin(admin.ModelAdmin):
    list_display = ("name", "value", "updated_at")
    search_fields = ("name",)
