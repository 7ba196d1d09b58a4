from aitbc_site.urls.common import json_not_found, json_server_error, service_urlpatterns
from apps.trading.api import explorer, router

urlpatterns = service_urlpatterns("trading", [("/", router), ("/explorer", explorer)])
handler404 = json_not_found
handler500 = json_server_error
