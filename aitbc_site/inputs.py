"""The one door for input, shared by every service: what no field may hold, and the bounded types that
schemas use for amounts, counts and times.

PostgreSQL refuses NUL in text and jsonb, nothing stores a lone UTF-16 surrogate, JSON has no NaN
(Python's parser takes it anyway), and a column holds only so much. All of it is refused here with a
422 that names the field, before any work is done; a database DataError is only the last line.
"""

import json
import math
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from django.http import JsonResponse
from ninja.parser import Parser
from pydantic import AfterValidator, AwareDatetime, Field

from aitbc_site.errors import Invalid
from aitbc_site.middleware import EitherModeMiddleware

MAX_DEPTH = 32  # arrays and objects inside each other; no schema here nests half as deep
MAX_DIGITS = 30  # of a JSON integer: beyond any column (and Python's int parser limit is 4,300)

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
AMOUNT_MAX_DIGITS = 18  # 10 before the point: under 10^10 AIT, and the ledger holds 9.2 x 10^10
AMOUNT_LIMIT = Decimal(10) ** (AMOUNT_MAX_DIGITS - 8)  # what an Amount stays under; so must what amounts multiply to
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def text_problem(value: str) -> str | None:
    """Why a string may not be stored, or None when it may."""
    if "\x00" in value:
        return "may not contain NUL (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "may not contain a lone UTF-16 surrogate"
    return None


def _where(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def json_check(value, path: str = "", depth: int = 0) -> None:
    """Raises Invalid, naming the field, for a parsed JSON value no field may hold."""
    if isinstance(value, dict | list) and depth >= MAX_DEPTH:
        raise Invalid(f"{path or 'body'}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if problem := text_problem(value):
            raise Invalid(f"{path or 'body'}: {problem}")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise Invalid(f"{path or 'body'}: must be a finite number (not NaN, Infinity or beyond 1.8e308)")
    elif isinstance(value, dict):
        for key, item in value.items():
            if problem := text_problem(key):
                raise Invalid(f"{path or 'body'}: a key {problem}")
            json_check(item, _where(path, key), depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            json_check(item, _where(path, index), depth + 1)


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise Invalid(f"body: an integer of {len(text)} digits is beyond any field")
    return int(text)


def strict_json(raw: bytes | str):
    """json.loads, refusing NaN and Infinity, numbers beyond range, deep nesting, NUL and lone surrogates."""
    try:
        value = json.loads(raw, parse_int=_bounded_int)  # NaN, Infinity and 1e400 come out as floats json_check refuses
    except RecursionError:
        raise Invalid(f"body: nested deeper than {MAX_DEPTH} levels") from None
    except UnicodeDecodeError:
        raise Invalid("body: is not UTF-8") from None
    json_check(value)
    return value


class StrictParser(Parser):
    """ninja's parser for every service: bodies through strict_json. (ninja turns a parser error into a
    400; aitbc_site.api answers the Invalid it was raised from.)"""

    def parse_body(self, request):
        return strict_json(request.body)


IDEMPOTENCY_KEY_MAX = 64  # short enough that every ledger or job key made from it fits its column
IDEMPOTENCY_KEY = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX}}}")


def request_problem(request) -> str | None:
    """Why the path, a query parameter or the Idempotency-Key may not reach a view, or None."""
    for name, value in (("path", request.path), *request.GET.items()):
        if problem := text_problem(name) or text_problem(value):
            return f"{name}: {problem}"
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            return f"{name}: may not contain control characters"
    key = request.headers.get("Idempotency-Key", "").strip()
    if key and not IDEMPOTENCY_KEY.fullmatch(key):
        return f"Idempotency-Key: must be 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters"
    return None


class InputDoorMiddleware(EitherModeMiddleware):
    """Refuses a path, query parameter or header no field may hold with the contract's 422, for every view."""

    def answer(self, request) -> JsonResponse | None:
        if (problem := request_problem(request)) is not None:
            return JsonResponse({"detail": problem, "code": "validation_error"}, status=422)
        return None


def _in_range(moment: datetime) -> datetime:
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is in the year 10000 in UTC, which Python cannot hold
        moment = LATEST
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year} (UTC)")
    return moment


# An amount in AIT a request may name: at most 8 decimals and within what the ledger stores.
Amount = Annotated[Decimal, Field(gt=0, max_digits=AMOUNT_MAX_DIGITS, decimal_places=8, allow_inf_nan=False)]
AmountOrZero = Annotated[Decimal, Field(ge=0, max_digits=AMOUNT_MAX_DIGITS, decimal_places=8, allow_inf_nan=False)]
# A moment with its timezone, in years any column and any reader can hold; converted to UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_in_range)]
# Whole numbers bounded to their columns (integer, bigint).
Int32 = Annotated[int, Field(ge=-INT32_MAX - 1, le=INT32_MAX)]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
PositiveCount = Annotated[int, Field(ge=1, le=INT32_MAX)]
Int64 = Annotated[int, Field(ge=-INT64_MAX - 1, le=INT64_MAX)]
# A float read from JSON: finite and of a size a reading can have.
Reading = Annotated[float, Field(ge=-1e15, le=1e15, allow_inf_nan=False)]
