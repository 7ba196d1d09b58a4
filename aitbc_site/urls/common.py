"""What every service's URLconf has: /health, /v1/ (its API, OpenAPI, docs) and JSON 404/500 pages. With the
other URLconfs here, the composition root: it may import any app's api."""

from django.http import JsonResponse
from django.urls import path
from ninja import NinjaAPI, Router

from aitbc_site.api import install_error_handlers
from aitbc_site.health import health
from aitbc_site.metrics import metrics
from apps.accounts.api import principal_router


class ServiceAPI(NinjaAPI):
    """A service's NinjaAPI whose operationIds are `<service>_<function>`: ninja's default embeds the module path,
    so moving a view to another module would change the public API."""

    def __init__(self, *, service: str, **kwargs):
        self.service = service
        super().__init__(**kwargs)

    def get_openapi_operation_id(self, operation) -> str:
        return f"{self.service}_{operation.view_func.__name__}"


def service_api(service: str, routers: list[tuple[str, Router]]) -> NinjaAPI:
    """One service's API, served under /v1/ with its OpenAPI document and docs."""
    api = ServiceAPI(
        service=service,
        title=f"AITBC {service}",
        version="1",
        description=f"The {service} service of AITBC. Authenticate with `Authorization: Bearer KEY`.",
        urls_namespace=f"{service}-api",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    install_error_handlers(api)
    api.add_router("/principals", principal_router())
    for prefix, router in routers:
        api.add_router(prefix, router)
    return api


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
