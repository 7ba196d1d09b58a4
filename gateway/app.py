"""The gateway's ASGI application: `/<service>/...` is proxied to that service; the rest (admin, /health) is
Django. A request whose path or query string cannot be passed on is answered 400 here, whoever serves it."""

from aitbc_site.metrics import asgi_observed
from gateway.inbound import request_id_of, target_refusal
from gateway.proxy import ServiceProxy, json_send
from gateway.routing import service_route


def gateway_application(django_application, proxy: ServiceProxy):
    async def refused(scope, receive, send):
        detail = target_refusal(scope)
        await json_send(send, 400, {"detail": detail, "code": "bad_request"}, request_id_of(scope["headers"]))

    async def application(scope, receive, send):
        if scope["type"] != "http":
            return await django_application(scope, receive, send)
        if target_refusal(scope) is not None:
            return await asgi_observed(refused, scope, receive, send, service="gateway", route="refused")
        target = service_route(scope["path"])
        if target is None:
            return await django_application(scope, receive, send)
        service, path = target

        async def proxied(scope, receive, send):
            await proxy(scope, receive, send, service, path)

        return await asgi_observed(proxied, scope, receive, send, service="gateway", route=f"{service}/*")

    return application
