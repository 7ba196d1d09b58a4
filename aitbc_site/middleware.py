"""Middleware of our own, and WhiteNoise made to run in either mode.

Each runs in the handler's own mode: in an ASGI process Django adapts a sync-only middleware with a thread hop each
way, on every request (and the view's own hop comes on top), so every one here is sync and async capable.
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse
from django.middleware import clickjacking, common, security
from django.urls import set_script_prefix
from django.utils.deprecation import MiddlewareMixin
from whitenoise.middleware import WhiteNoiseMiddleware

from aitbc_site.domains import DOMAINS

KNOWN_PREFIXES = frozenset(f"/{d}" for d in DOMAINS)


class EitherModeMiddleware:
    """A middleware that may answer a request itself before the view (`answer`), in the handler's mode."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def answer(self, request: HttpRequest) -> HttpResponse | None:
        raise NotImplementedError

    def __call__(self, request):
        if self.is_async:
            return self.__acall__(request)
        response = self.answer(request)
        return response if response is not None else self.get_response(request)

    async def __acall__(self, request):
        response = self.answer(request)
        return response if response is not None else await self.get_response(request)


class InlineMiddleware(MiddlewareMixin):
    """Django's middleware runs its process_request and process_response in a thread each in an async handler;
    for middleware that does no I/O (headers, redirects) they run here, in the event loop."""

    async def __acall__(self, request):
        response = self.process_request(request) if hasattr(self, "process_request") else None
        response = response or await self.get_response(request)
        return self.process_response(request, response) if hasattr(self, "process_response") else response


class SecurityMiddleware(InlineMiddleware, security.SecurityMiddleware):
    """Django's security headers and HTTPS redirect, in the event loop."""


class CommonMiddleware(InlineMiddleware, common.CommonMiddleware):
    """Django's disallowed user agents and URL rewriting, in the event loop."""


class XFrameOptionsMiddleware(InlineMiddleware, clickjacking.XFrameOptionsMiddleware):
    """Django's X-Frame-Options header, in the event loop."""


class ForwardedPrefixMiddleware(EitherModeMiddleware):
    """Behind the gateway, links a service builds (docs -> openapi.json) keep the `/<service>` prefix."""

    def answer(self, request: HttpRequest) -> None:
        prefix = request.headers.get("X-Forwarded-Prefix")
        if prefix in KNOWN_PREFIXES:
            set_script_prefix(prefix + "/")
        return None


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise, in either mode: a request for a static file is served from its in-memory index (or found on
    disk with autorefresh, in a thread); any other goes on without a thread hop."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response=None, **kwargs):
        super().__init__(get_response, **kwargs)
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request):
        if self.autorefresh:
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is not None:
            return await sync_to_async(self.serve)(static_file, request)
        return await self.get_response(request)
