from django.urls import path

from aitbc_site.urls.common import json_not_found, json_server_error, service_urlpatterns
from apps.monitoring.api import dashboard_page, router

urlpatterns = [
    *service_urlpatterns("monitoring", [("/", router)]),
    path("dashboard", dashboard_page, name="dashboard"),
]
handler404 = json_not_found
handler500 = json_server_error
