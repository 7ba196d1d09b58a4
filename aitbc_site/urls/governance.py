from django.urls import path
from ninja import NinjaAPI

from aitbc_site.api import install_error_handlers
from aitbc_site.urls.common import json_not_found, json_server_error, service_urlpatterns
from apps.governance.api import proposals_router, reports_router, transactions_router
from apps.governance.treasury import governance_status

# the seed's /governance/status beside /v1/...
seed = NinjaAPI(
    title="AITBC governance (seed paths)", urls_namespace="governance-seed", docs_url=None, openapi_url=None
)
install_error_handlers(seed)


@seed.get("/governance/status", tags=["governance"])
def status(request):
    """Proposals by status, open votes, profiles, delegations, the treasury balance and the rules in force."""
    return governance_status()


urlpatterns = [
    *service_urlpatterns("governance", [("/", proposals_router), ("/", reports_router), ("/", transactions_router())]),
    path("", seed.urls),
]
handler404 = json_not_found
handler500 = json_server_error
