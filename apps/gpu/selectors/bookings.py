"""Reads of the GPU-hour market: a booking's terms (amount, span), bookings and reviews as each principal may see
them."""

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.db.models import Q
from django.utils import timezone

from aitbc_site.errors import NotFound
from aitbc_site.money import quantize_down
from apps.accounts.facade import PrincipalView
from apps.gpu.models import Gpu, GpuBooking

SECONDS_PER_HOUR = 3600


def booking_amount(*, hours: Decimal, price_per_hour: Decimal, gpu_count: int) -> Decimal:
    """What a booking holds in escrow: hours x price_per_hour x gpu_count, to 8 places rounded down, as an
    order-book fill's amount is (its booking is paid from the fill's hold, so it may not ask for more)."""
    return quantize_down(Decimal(hours) * Decimal(price_per_hour) * gpu_count)


def booking_duration(hours: Decimal) -> timedelta:
    return timedelta(microseconds=int(Decimal(hours) * SECONDS_PER_HOUR * 10**6))


def booking_span(hours: Decimal, starts_at: datetime | None = None) -> dict:
    """{"starts_at", "ends_at"} of a booking of `hours` from starts_at (default: now)."""
    starts_at = starts_at or timezone.now()
    return {"starts_at": starts_at, "ends_at": starts_at + booking_duration(hours)}


def booking_list_for(principal: PrincipalView, *, status: str | None, limit: int, offset: int):
    """The bookings the principal made or is paid for, newest first (an admin sees everyone's)."""
    bookings = GpuBooking.objects.all()
    if not principal.is_admin:
        bookings = bookings.filter(Q(client_id=principal.id) | Q(provider_principal_id=principal.id))
    if status:
        bookings = bookings.filter(status=status)
    return bookings.count(), list(bookings[offset : offset + limit])


def booking_get_for(principal: PrincipalView, booking_id: UUID) -> GpuBooking:
    """The booking, for its client, its provider or an admin; 404 exactly as if it did not exist otherwise."""
    booking = GpuBooking.objects.filter(id=booking_id).first()
    if booking is None or (
        not principal.is_admin and principal.id not in (booking.client_id, booking.provider_principal_id)
    ):
        raise NotFound(f"no booking {booking_id}")
    return booking


def review_list(gpu_id: UUID, *, limit: int, offset: int):
    gpu = Gpu.objects.filter(id=gpu_id).first()
    if gpu is None:
        raise NotFound(f"no GPU {gpu_id}")
    reviews = gpu.reviews.all()
    return gpu, reviews.count(), list(reviews[offset : offset + limit])
