from django.urls import path

from aitbc_site.urls.common import json_not_found, json_server_error, service_urlpatterns
from apps.gpu.api import gpu_status, router
from apps.gpu.market_api import market_router
from apps.marketplace.transactions import transactions_router

urlpatterns = [
    *service_urlpatterns("gpu", [("/", router), ("/", market_router), ("/", transactions_router())]),
    path("gpu/status", gpu_status, name="gpu-status"),
]
handler404 = json_not_found
handler500 = json_server_error
