from django.urls import set_script_prefix

from aitbc_site.domains import DOMAINS

KNOWN_PREFIXES = frozenset(f"/{d}" for d in DOMAINS)


class ForwardedPrefixMiddleware:
    """Behind the gateway, links a service builds (docs -> openapi.json) keep the `/<service>` prefix."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        prefix = request.headers.get("X-Forwarded-Prefix")
        if prefix in KNOWN_PREFIXES:
            set_script_prefix(prefix + "/")
        return self.get_response(request)
