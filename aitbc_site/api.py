"""The NinjaAPI every service builds on: one error shape, one auth, docs at /v1/docs."""

import logging
from typing import Any

import pydantic
from django.core.exceptions import RequestDataTooBig
from django.db import DataError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from aitbc_site.errors import ApiError
from aitbc_site.inputs import StrictParser

log = logging.getLogger(__name__)

STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "rate_limited",
}


class Error(Schema):
    """The contract's error body, for every documented 4xx of every service."""

    detail: str
    code: str


def _field_name(loc: list) -> str:
    # ninja prefixes locations with the parameter source and name: ("body", "payload", "type")
    parts = [str(p) for p in loc]
    if len(parts) > 2 and parts[0] == "body":
        parts = parts[2:]
    elif len(parts) > 1 and parts[0] in ("query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_detail(errors: list[dict]) -> str:
    return "; ".join(f"{_field_name(e.get('loc', []))}: {e.get('msg', 'invalid')}" for e in errors)


def error_response(api: NinjaAPI, request: HttpRequest, status: int, detail: str, code: str, **extra) -> HttpResponse:
    headers = extra.pop("headers", None) or {}
    response = api.create_response(request, {"detail": detail, "code": code, **extra}, status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def install_error_handlers(api: NinjaAPI) -> None:
    api.parser = StrictParser()  # bodies come in through the input door

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return error_response(api, request, exc.status, exc.detail, exc.code, headers=getattr(exc, "headers", None))

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors]
        return error_response(api, request, 422, validation_detail(errors), "validation_error", errors=errors)

    @api.exception_handler(pydantic.ValidationError)
    def nested_validation_error(request, exc: pydantic.ValidationError):
        errors: list[dict[str, Any]] = [
            {k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()
        ]
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in errors)
        return error_response(api, request, 422, detail, "validation_error", errors=errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return error_response(
            api, request, 401, "missing or unknown API key (send Authorization: Bearer KEY)", "unauthenticated"
        )

    @api.exception_handler(AuthorizationError)
    def forbidden(request, exc):
        return error_response(api, request, 403, "this key may not do that", "forbidden")

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        if isinstance(exc.__cause__, ApiError):  # the strict parser refused the body (ninja wraps it in a 400)
            return api_error(request, exc.__cause__)
        if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
            return error_response(api, request, 400, "the request body is not valid JSON", "malformed_json")
        return error_response(api, request, exc.status_code, str(exc), STATUS_CODES.get(exc.status_code, "error"))

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return error_response(api, request, 404, str(exc) or "not found", "not_found")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request, exc):
        return error_response(api, request, 413, "the request body is too large", "payload_too_large")

    @api.exception_handler(DataError)
    def data_refused(request, exc):
        # the last line only: the input door and the schemas' bounded types refuse such values before any work
        log.error("database refused a value on %s %s: %s", request.method, request.path, exc)
        return error_response(api, request, 422, "a value is beyond what can be stored", "validation_error")

    @api.exception_handler(OperationalError)
    def database_unavailable(request, exc):
        # no pooled connection within its timeout, PostgreSQL out of connection slots, or unreachable: the open
        # transaction rolled back, and a retry with the same Idempotency-Key does nothing twice
        log.error("database unavailable on %s %s: %s", request.method, request.path, exc)
        detail = "the database is busy or unreachable; try again (with the same Idempotency-Key, if you sent one)"
        return error_response(api, request, 503, detail, "database_unavailable", headers={"Retry-After": "1"})

    @api.exception_handler(Exception)
    def internal(request, exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(api, request, 500, "internal error; it has been logged", "internal_error")
