"""Amounts in AIT: Decimal with 8 places, written as decimal strings; never floats."""

from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, InvalidOperation

from django import forms
from django.db import models
from django.db.models.expressions import Combinable

from aitbc_site.errors import Invalid

PLACES = Decimal("0.00000001")
ZERO = Decimal("0E-8")


def money(value, *, field: str = "amount", positive: bool = True) -> Decimal:
    """Parses an amount: a finite number with at most 8 decimals (positive unless told otherwise)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise Invalid(f"{field} must be a decimal number, not {value!r}") from None
    if not amount.is_finite():
        raise Invalid(f"{field} must be a finite number")
    if amount != amount.quantize(PLACES, rounding=ROUND_DOWN):
        raise Invalid(f"{field} may have at most 8 decimals")
    if positive and amount <= 0:
        raise Invalid(f"{field} must be greater than 0")
    return amount.quantize(PLACES)


def quantize(amount: Decimal) -> Decimal:
    return amount.quantize(PLACES, rounding=ROUND_HALF_EVEN)


def quantize_up(amount: Decimal) -> Decimal:
    """To 8 places, rounding up: for a hold that several amounts rounded down are later taken out of."""
    return amount.quantize(PLACES, rounding=ROUND_CEILING)


def quantize_down(amount: Decimal) -> Decimal:
    """To 8 places, rounding down: for parts of a hold rounded up, so that they never add up to more than it
    (the sum of floors is at most the ceiling of the sum)."""
    return amount.quantize(PLACES, rounding=ROUND_FLOOR)


def money_str(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{quantize(Decimal(amount)):f}"


SCALE = 10**8


class MoneyField(models.BigIntegerField):
    """An amount in AIT, stored as a whole number of 1e-8 AIT: exact on PostgreSQL and SQLite alike
    (SQLite keeps decimals as floats), and exact in sums. In Python it is a Decimal with 8 places."""

    description = "AIT amount (stored in units of 1e-8)"

    # What django-stubs reads as the Python types of a field: a Decimal, not the int of BigIntegerField.
    _pyi_private_set_type: Decimal | int | str | Combinable  # type: ignore[assignment]  # stubs: a Decimal field
    _pyi_private_get_type: Decimal  # type: ignore[assignment]  # stubs: stored as an integer, read as a Decimal
    _pyi_lookup_exact_type: Decimal | int | str  # type: ignore[assignment]  # stubs: a lookup takes a Decimal

    def from_db_value(self, value, expression, connection):
        return None if value is None else Decimal(int(value)).scaleb(-8)

    def to_python(self, value):
        if value is None or isinstance(value, Decimal):
            return value
        return quantize(Decimal(str(value)))

    def get_prep_value(self, value):
        if value is None:
            return None
        return int((quantize(Decimal(str(value))) * SCALE).to_integral_exact())

    def formfield(self, **kwargs):
        return forms.DecimalField(max_digits=20, decimal_places=8, **kwargs)
