from django.urls import path

from aitbc_site.urls.common import json_not_found, json_server_error, service_urlpatterns
from apps.ai.api import miners_router as job_protocol_router
from apps.gpu.api import gpu_status, market_router, miners_router
from apps.marketplace.api import transactions_router

urlpatterns = [
    *service_urlpatterns(
        "gpu", [("/", job_protocol_router), ("/", miners_router), ("/", market_router), ("/", transactions_router())]
    ),
    path("gpu/status", gpu_status, name="gpu-status"),
]
handler404 = json_not_found
handler500 = json_server_error
