"""The framework's floor for bench/floor.py: Django with django-ninja and nothing else (no middleware, no database),
one GET that answers {"hello": "world"}. Served by granian exactly as a service is."""

import secrets

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    SECRET_KEY=secrets.token_urlsafe(32),  # this app signs nothing
    INSTALLED_APPS=["ninja"],
    MIDDLEWARE=[],
    ROOT_URLCONF=__name__,
    DATABASES={},
)
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402
from django.urls import path  # noqa: E402
from ninja import NinjaAPI  # noqa: E402

api = NinjaAPI(urls_namespace="hello")


@api.get("/hello")
def hello(request):
    return {"hello": "world"}


urlpatterns = [path("v1/", api.urls)]
application = get_asgi_application()
