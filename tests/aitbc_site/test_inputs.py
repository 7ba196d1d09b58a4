"""The input door: property tests of the strict JSON parser, and what every service answers to input no
field may hold (a 422 naming the field, nothing done). Hypothesis draws a fresh seed each run and prints it
with any failure."""

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from aitbc_site.errors import Invalid
from aitbc_site.inputs import MAX_DEPTH, Amount, Count, Moment, strict_json, text_problem
from apps.trading.facade import account_balances
from tests import hostile
from tests.accounts import factories as accounts_factories
from tests.trading import factories as trading_factories

storable_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
storable = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats(allow_nan=False, allow_infinity=False)
    | storable_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(storable_text, inner, max_size=4),
    max_leaves=30,
)  # fmt: skip


def _depth(value) -> int:
    if isinstance(value, dict | list):
        items = value.values() if isinstance(value, dict) else value
        return 1 + max((_depth(v) for v in items), default=0)
    return 0


@given(storable)
def test_what_can_be_stored_passes_the_door_unchanged(value):
    if _depth(value) <= MAX_DEPTH:
        assert strict_json(json.dumps(value)) == value


def _paths(value, path=()):
    """Every place in a JSON value where another value could stand, as a path of keys and indexes."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), storable, min_size=1), st.data(),
       st.sampled_from(sorted(hostile.ALL)))  # fmt: skip
def test_anything_that_cannot_be_stored_is_refused_wherever_it_hides(body, data, kind):
    path = data.draw(st.sampled_from([p for p in _paths(body) if p]))
    raw = hostile.json_with(body, path, hostile.ALL[kind])  # a path, not dotted text: keys may hold dots
    with pytest.raises(Invalid) as refused:
        strict_json(raw)
    assert refused.value.detail.startswith(".".join(str(p) for p in path) + ":")


@given(st.integers(MAX_DEPTH + 1, 3000))
def test_nesting_beyond_the_limit_is_refused_however_deep(depth):
    with pytest.raises(Invalid, match="nested deeper"):
        strict_json("[" * depth + "]" * depth)


def test_keys_and_huge_integers_are_checked_too():
    with pytest.raises(Invalid, match="a key may not contain NUL"):
        strict_json('{"a\\u0000": 1}')
    with pytest.raises(Invalid, match="digits"):
        strict_json("9" * 5000)
    assert text_problem("ok ✓ 😀") is None


@given(st.decimals(allow_nan=True, allow_infinity=True))
def test_an_amount_is_finite_positive_with_8_decimals_and_fits_the_ledger(value):
    fits = value.is_finite() and 0 < value < Decimal(10) ** 10 and value == value.quantize(Decimal("1e-8"))
    try:
        TypeAdapter(Amount).validate_python(value)
    except ValidationError:
        assert not fits
    else:
        assert fits


@given(st.integers())
def test_a_count_fits_an_integer_column(value):
    try:
        TypeAdapter(Count).validate_python(value)
    except ValidationError:
        assert not 0 <= value < 2**31
    else:
        assert 0 <= value < 2**31


def test_a_moment_has_a_timezone_a_year_any_reader_can_hold_and_comes_out_in_utc():
    moment = TypeAdapter(Moment)
    assert moment.validate_python("2030-01-01T05:00:00+05:00") == datetime(2030, 1, 1, tzinfo=UTC)
    for refused in ("2030-01-01T00:00:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z", "10000-01-01"):
        with pytest.raises(ValidationError):
            moment.validate_python(refused)
    assert moment.validate_python(datetime(2030, 1, 1, tzinfo=timezone(timedelta(hours=-5)))).hour == 5


pytestmark_db = pytest.mark.django_db(databases="__all__")


@pytestmark_db
@pytest.mark.parametrize("kind", sorted(hostile.ALL))
def test_a_service_answers_422_naming_the_field_and_moves_no_money(api, kind):
    sender, key = trading_factories.funded_client("10")
    receiver, _ = accounts_factories.principal(name="receiver")
    transfer = {"to_principal_id": str(receiver.id), "amount": "1", "memo": "hi"}
    body = hostile.body_with(transfer, "memo", hostile.ALL[kind])
    answer = api("trading", key).post("/v1/transfers", body)
    refused = hostile.assert_refused(answer, 422)
    assert refused["code"] == "validation_error"
    assert refused["detail"].startswith("memo:")
    assert account_balances(sender.id)["available"] == Decimal("10")


@pytestmark_db
@pytest.mark.parametrize("query", ["?q=a%00b", "?status=%01", "?limit=%00"])
def test_a_query_parameter_that_no_field_may_hold_is_refused_before_the_view(api, query):
    _, key = trading_factories.funded_client("10")
    hostile.assert_refused(api("trading", key).get(f"/v1/accounts/me/entries{query}"), 422)
    assert api("trading", key).get("/v1/accounts/me/entries").status_code == 200


@pytestmark_db
@pytest.mark.parametrize("idempotency_key", ["k" * 65, "a b", "ключ"])
def test_an_idempotency_key_that_no_ledger_key_could_hold_is_refused(api, idempotency_key):
    sender, key = trading_factories.funded_client("10")
    receiver, _ = accounts_factories.principal(name="receiver")
    answer = api("trading", key).post(
        "/v1/transfers",
        {"to_principal_id": str(receiver.id), "amount": "1"},
        headers={"Idempotency-Key": idempotency_key},
    )
    assert "Idempotency-Key" in hostile.assert_refused(answer, 422)["detail"]
    assert account_balances(sender.id)["available"] == Decimal("10")
