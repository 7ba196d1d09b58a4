from django.urls import path
from ninja import NinjaAPI

from aitbc_site.api import install_error_handlers
from aitbc_site.urls.common import json_not_found, json_server_error, service_urlpatterns
from apps.trading.api import explorer_router, router

# the seed's paths (/blocks, /blocks/{id}, /receipts, /transactions/{tx_hash}) beside /v1/explorer/...
seed = NinjaAPI(title="AITBC trading (seed paths)", urls_namespace="trading-seed", docs_url=None, openapi_url=None)
install_error_handlers(seed)
seed.add_router("/", explorer_router(v1=False))

urlpatterns = [
    *service_urlpatterns("trading", [("/", router), ("/explorer", explorer_router(v1=True))]),
    path("", seed.urls),
]
handler404 = json_not_found
handler500 = json_server_error
