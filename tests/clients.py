"""The one way a test calls a service's HTTP API in-process: the `api` fixture.

`api("gpu", key)` is the gpu service's API as that key sees it (`Authorization: Bearer KEY`; no key: anonymous);
its get/post/put/patch/delete answer with the Django test response, e.g.
`api("gpu", key).post("/v1/miners/poll", {"max_wait_seconds": 0}).status_code`.

Registered from the root conftest through `pytest_plugins`, so every test may ask for `api`.
"""

import pytest
from django.test import Client

JSON = "application/json"


def urlconf_of(service: str) -> str:
    """A service's URLconf (aitbc_site.urls.<service>), or a test's own URLconf given by its dotted path."""
    return service if "." in service else f"aitbc_site.urls.{service}"


class ServiceApi:
    """One service's API as one key sees it. Each request is answered by that service's URLconf (and with its name
    as AITBC_SERVICE), chosen as it is sent, so calls to several services may interleave in one test.

    GET sends `data` as the query. POST, PUT, PATCH and DELETE send it as the JSON body: a dict or list is encoded,
    a str or bytes goes as it is (malformed or hostile JSON); no data is `{}` (DELETE: an empty body). `headers`
    are added to the key's (and may replace it); `extra` is WSGI environ, as with Django's test client.
    """

    def __init__(self, settings, service: str, key: str | None = None, **client_options):
        self.settings, self.service, self.key = settings, service, key
        self.client = Client(**client_options)  # the Django test client underneath, for what is not an API call
        self.route()

    def route(self) -> None:
        """The next request (through this object or its `client`) is answered by this service."""
        urlconf = urlconf_of(self.service)
        if self.settings.ROOT_URLCONF != urlconf:
            self.settings.ROOT_URLCONF = urlconf
        if urlconf != self.service and self.settings.AITBC_SERVICE != self.service:
            self.settings.AITBC_SERVICE = self.service

    def request(self, method: str, path: str, data=None, *, headers: dict | None = None, **extra):
        """The request `method` (get, post, put, patch or delete) names; the Django test response."""
        self.route()
        method = method.lower()
        headers = {**({"Authorization": f"Bearer {self.key}"} if self.key is not None else {}), **(headers or {})}
        if method == "get":
            return self.client.get(path, data, headers=headers, **extra)
        if data is None:
            data = "" if method == "delete" else {}
        return getattr(self.client, method)(path, data, content_type=JSON, headers=headers, **extra)

    def get(self, path: str, data=None, *, headers: dict | None = None, **extra):
        return self.request("get", path, data, headers=headers, **extra)

    def post(self, path: str, data=None, *, headers: dict | None = None, **extra):
        return self.request("post", path, data, headers=headers, **extra)

    def put(self, path: str, data=None, *, headers: dict | None = None, **extra):
        return self.request("put", path, data, headers=headers, **extra)

    def patch(self, path: str, data=None, *, headers: dict | None = None, **extra):
        return self.request("patch", path, data, headers=headers, **extra)

    def delete(self, path: str, data=None, *, headers: dict | None = None, **extra):
        return self.request("delete", path, data, headers=headers, **extra)


@pytest.fixture
def api(settings):
    """api(service, key=None, **client_options) -> that service's API as that key sees it (a ServiceApi).

    client_options go to Django's test Client, e.g. raise_request_exception=False to see the 500 or 503 a
    crash is answered with."""

    def service_api(service: str, key: str | None = None, **client_options) -> ServiceApi:
        return ServiceApi(settings, service, key, **client_options)

    return service_api
