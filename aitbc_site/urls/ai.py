from aitbc_site.urls.common import json_not_found, json_server_error, service_urlpatterns
from apps.ai.api import jobs_router, multimodal_router, optimization_router

urlpatterns = service_urlpatterns(
    "ai", [("/", jobs_router), ("/multimodal", multimodal_router), ("/optimization", optimization_router)]
)
handler404 = json_not_found
handler500 = json_server_error
