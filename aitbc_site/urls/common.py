"""What every service's URLconf has: /health, /v1/ (API, OpenAPI, docs) and JSON 404/500 pages."""

from django.http import JsonResponse
from django.urls import path

from aitbc_site.api import service_api
from aitbc_site.health import health
from aitbc_site.metrics import metrics


def json_not_found(request, exception=None):
    return JsonResponse({"detail": f"no such path: {request.path}", "code": "not_found"}, status=404)


def json_server_error(request):
    return JsonResponse({"detail": "internal error; it has been logged", "code": "internal_error"}, status=500)


def service_urlpatterns(service: str, routers) -> list:
    api = service_api(service, routers)
    return [
        path("health", health, name="health"),
        path("metrics", metrics, name="metrics"),
        path("v1/", api.urls),
    ]
