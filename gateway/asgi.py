"""The gateway process: `/<service>/...` is proxied to that service; the rest (admin, /health) is Django."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aitbc_site.settings")
os.environ.setdefault("AITBC_SERVICE", "gateway")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from aitbc_site.lifecycle import die_with_parent  # noqa: E402

die_with_parent()

from aitbc_site.metrics import asgi_observed  # noqa: E402
from gateway.proxy import ServiceProxy  # noqa: E402
from gateway.routing import service_route  # noqa: E402

proxy = ServiceProxy()


async def application(scope, receive, send):
    if scope["type"] == "http":
        target = service_route(scope["path"])
        if target is not None:
            service, path = target

            async def proxied(scope, receive, send):
                await proxy(scope, receive, send, service, path)

            return await asgi_observed(proxied, scope, receive, send, service="gateway", route=f"{service}/*")
    return await django_application(scope, receive, send)
