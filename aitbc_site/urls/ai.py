from aitbc_site.urls.common import json_not_found, json_server_error, service_urlpatterns
from apps.ai.api import router
from apps.ai.multimodal_api import router as multimodal_router
from apps.ai.optimization_api import router as optimization_router

urlpatterns = service_urlpatterns(
    "ai", [("/", router), ("/multimodal", multimodal_router), ("/optimization", optimization_router)]
)
handler404 = json_not_found
handler500 = json_server_error
