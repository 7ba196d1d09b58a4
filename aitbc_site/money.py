"""Amounts in AIT: Decimal with 8 places, written as decimal strings; never floats."""

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

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


def money_str(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{quantize(Decimal(amount)):f}"
