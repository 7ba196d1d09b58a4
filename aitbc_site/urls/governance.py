from aitbc_site.urls.common import json_not_found, json_server_error, service_urlpatterns
from apps.governance.api import router

urlpatterns = service_urlpatterns("governance", [("/", router)])
handler404 = json_not_found
handler500 = json_server_error
