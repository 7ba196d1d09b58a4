"""What the gateway serves itself (everything under /<service>/ is proxied by gateway.asgi)."""

from django.contrib import admin
from django.urls import path

from aitbc_site.metrics import metrics
from aitbc_site.urls.common import json_not_found, json_server_error
from gateway.views import gateway_health, openapi_index

admin.site.site_header = "AITBC administration"
admin.site.site_title = "AITBC admin"

urlpatterns = [
    path("health", gateway_health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("openapi", openapi_index, name="openapi-index"),
    path("admin/", admin.site.urls),
]
handler404 = json_not_found
handler500 = json_server_error
