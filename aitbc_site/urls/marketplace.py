from aitbc_site.urls.common import json_not_found, json_server_error, service_urlpatterns
from apps.marketplace.api import router, transactions_router

urlpatterns = service_urlpatterns("marketplace", [("/", router), ("/", transactions_router())])
handler404 = json_not_found
handler500 = json_server_error
