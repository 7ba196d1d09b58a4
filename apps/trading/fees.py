"""The platform fee: one formula for whatever the platform takes its fee on (jobs, GPU bookings, trades)."""

from decimal import Decimal

from aitbc_site.money import quantize
from aitbc_site.parameters import parameter_get

BPS = 10000


def fee_of(amount: Decimal, bps: int | None = None) -> Decimal:
    """The platform fee on `amount`: `bps` basis points of it (default: the platform parameter platform_fee_bps in
    force now), to 8 places, never more than the amount itself."""
    bps = parameter_get("platform_fee_bps") if bps is None else bps
    return min(quantize(amount * bps / BPS), amount)
