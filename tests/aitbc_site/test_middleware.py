"""A service's middleware runs in the event loop: Django adapts a sync-only middleware, and runs a MiddlewareMixin's
process_request and process_response, in a thread hop each, on every request."""

import pytest
from django.conf import settings
from django.utils.deprecation import MiddlewareMixin
from django.utils.module_loading import import_string


@pytest.mark.parametrize("path", settings.SERVICE_MIDDLEWARE)
def test_every_service_middleware_runs_in_the_event_loop(path):
    middleware = import_string(path)
    assert getattr(middleware, "async_capable", False), f"{path} is sync only"
    assert getattr(middleware, "__acall__", None) is not MiddlewareMixin.__acall__, f"{path} hops to threads"
