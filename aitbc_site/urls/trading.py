from django.urls import path
from ninja import NinjaAPI

from aitbc_site.api import install_error_handlers
from aitbc_site.urls.common import json_not_found, json_server_error, service_urlpatterns
from apps.trading.api import explorer_router, router
from apps.trading.selectors.trades import trading_status

# the seed's paths (/blocks, /blocks/{id}, /receipts, /transactions/{tx_hash}) beside /v1/explorer/...
seed = NinjaAPI(title="AITBC trading (seed paths)", urls_namespace="trading-seed", docs_url=None, openapi_url=None)
install_error_handlers(seed)
seed.add_router("/", explorer_router(v1=False))


@seed.get("/trading/status", tags=["trading"])
def status(request):
    """Counts of requests, matches and agreements by status, ledger entries and the block height."""
    return trading_status()


urlpatterns = [
    *service_urlpatterns("trading", [("/", router)]),
    path("", seed.urls),
]
handler404 = json_not_found
handler500 = json_server_error
