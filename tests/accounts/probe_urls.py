"""A URLconf for tests: an API built the way every service builds its own, with one admin-only route."""

from django.urls import path
from ninja import NinjaAPI, Router, Schema

from aitbc_site.api import install_error_handlers
from apps.accounts.auth import ApiKeyAuth


class Thing(Schema):
    name: str
    count: int


api = NinjaAPI(urls_namespace="auth-probe")
install_error_handlers(api)
router = Router()


@router.post("/things", auth=ApiKeyAuth("admin"))
def thing_create(request, thing: Thing):
    return {"name": thing.name, "count": thing.count}


api.add_router("/", router)
urlpatterns = [path("probe/", api.urls)]
