"""The gpu service's marketplace endpoints: GPUs to book, bookings with escrow, reviews, edge GPU profiles."""

from decimal import Decimal
from typing import Any
from uuid import UUID

from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict

from aitbc_site.api import Error
from aitbc_site.money import money_str
from aitbc_site.times import iso
from apps.accounts.auth import any_principal, clients
from apps.accounts.idempotency import idempotency_key
from apps.gpu.models import BookingStatus, EdgeGpuProfile, Gpu, GpuBooking, GpuReview, GpuStatus
from apps.gpu.selectors.bookings import SECONDS_PER_HOUR, booking_get_for, booking_list_for, review_list
from apps.gpu.selectors.edge import edge_optimize, edge_profiles
from apps.gpu.services.bookings import booking_release, gpu_book
from apps.gpu.services.reviews import review_create

market_router = Router(tags=["marketplace"])


class BookIn(Schema):
    model_config = ConfigDict(extra="forbid")
    hours: Decimal = Field(gt=0, le=8760, max_digits=12, decimal_places=8, description="from now")


class BookingOut(Schema):
    booking_id: UUID
    status: str
    miner_id: UUID
    provider_principal_id: UUID
    client_id: UUID
    gpu_ids: list[str]
    gpu_model: str
    gpu_count: int
    hours: str
    price_per_hour: str
    amount: str
    escrow_key: str
    starts_at: str
    ends_at: str
    ended_at: str | None
    paid: str | None
    fee: str | None
    refunded: str | None
    created_at: str


class BookingList(Schema):
    items: list[BookingOut]
    count: int


class ReviewIn(Schema):
    model_config = ConfigDict(extra="forbid")
    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=2000)


class ReviewOut(Schema):
    review_id: UUID
    gpu_id: UUID
    client_id: UUID
    booking_id: UUID
    rating: int
    comment: str
    created_at: str


class ReviewList(Schema):
    items: list[ReviewOut]
    count: int
    rating_average: float | None
    rating_count: int


class GpuOffer(Schema):
    gpu_id: UUID
    miner_id: UUID
    model: str
    memory_mb: int
    compute_capability: str
    region: str
    status: str
    price_per_hour: str
    rating_average: float | None
    rating_count: int


class GpuOfferList(Schema):
    items: list[GpuOffer]
    count: int


class ProfileOut(Schema):
    model: str
    category: str
    memory_mb: int
    tdp_w: int
    fp32_tflops: float
    fp16_tflops: float
    bf16: bool
    int8_tops: float
    compute_capability: str
    source: str


class ProfileList(Schema):
    items: list[ProfileOut]
    count: int


class OptimizeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    model_params_b: float = Field(ge=0.001, le=10000, description="the model's size in billions of parameters")
    sequence_length: int = Field(ge=1, le=1_048_576, description="tokens per sequence")


class OptimizeOut(Schema):
    gpu_id: UUID
    gpu_model: str
    profile: ProfileOut
    request: dict[str, Any]
    telemetry: dict[str, Any]
    recommendation: dict[str, Any]
    calculation: dict[str, Any]
    reasoning: list[str]


def booking_view(booking: GpuBooking) -> dict:
    return {
        "booking_id": booking.id,
        "status": booking.status,
        "miner_id": booking.miner_id,
        "provider_principal_id": booking.provider_principal_id,
        "client_id": booking.client_id,
        "gpu_ids": booking.gpu_ids,
        "gpu_model": booking.gpu_model,
        "gpu_count": booking.gpu_count,
        "hours": money_str(booking.hours),
        "price_per_hour": money_str(booking.price_per_hour),
        "amount": money_str(booking.amount),
        "escrow_key": booking.escrow_key,
        "starts_at": iso(booking.starts_at),
        "ends_at": iso(booking.ends_at),
        "ended_at": iso(booking.ended_at),
        "paid": money_str(booking.paid),
        "fee": money_str(booking.fee),
        "refunded": money_str(booking.refunded),
        "created_at": iso(booking.created_at),
    }


def review_view(review: GpuReview) -> dict:
    return {
        "review_id": review.id,
        "gpu_id": review.gpu_id,
        "client_id": review.client_id,
        "booking_id": review.booking_id,
        "rating": review.rating,
        "comment": review.comment,
        "created_at": iso(review.created_at),
    }


def gpu_offer_view(gpu: Gpu) -> dict:
    return {
        "gpu_id": gpu.id,
        "miner_id": gpu.miner_id,
        "model": gpu.model,
        "memory_mb": gpu.memory_mb,
        "compute_capability": gpu.compute_capability,
        "region": gpu.miner.region,
        "status": gpu.status,
        "price_per_hour": money_str(gpu.miner.unit_price * SECONDS_PER_HOUR),
        "rating_average": gpu.rating_average,
        "rating_count": gpu.rating_count,
    }


def profile_view(profile: EdgeGpuProfile) -> dict:
    return {name: getattr(profile, name) for name in ProfileOut.model_fields}


@market_router.get("/gpus", auth=any_principal, response=GpuOfferList)
def gpus_list(
    request,
    model: str = Query("", max_length=100, description="part of the model name"),
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """Registered GPUs that can be booked (not OFFLINE), with their price per hour and rating."""
    gpus = Gpu.objects.select_related("miner").exclude(status=GpuStatus.OFFLINE).filter(model__icontains=model)
    gpus = gpus.order_by("model", "id")
    return {"items": [gpu_offer_view(g) for g in gpus[offset : offset + limit]], "count": gpus.count()}


@market_router.post(
    "/gpus/{gpu_id}/book", auth=clients, response={201: BookingOut, 402: Error, 404: Error, 409: Error, 422: Error}
)
def gpus_book(request, gpu_id: UUID, body: BookIn):
    """Book one GPU from now for `hours` at its miner's price; the whole amount is held in escrow (402 when
    the client cannot cover it). Idempotency-Key: the same key returns the same booking."""
    booking = gpu_book(client=request.auth, gpu_id=gpu_id, hours=body.hours, idempotency_key=idempotency_key(request))
    return Status(201, booking_view(booking))


@market_router.get("/bookings", auth=any_principal, response=BookingList)
def bookings_list(
    request,
    status: BookingStatus | None = None,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000),
):
    """The bookings you made or are paid for, newest first (an admin sees everyone's)."""
    count, bookings = booking_list_for(request.auth, status=status, limit=limit, offset=offset)
    return {"items": [booking_view(b) for b in bookings], "count": count}


@market_router.get("/bookings/{booking_id}", auth=any_principal, response={200: BookingOut, 404: Error})
def bookings_get(request, booking_id: UUID):
    return booking_view(booking_get_for(request.auth, booking_id))


@market_router.post("/bookings/{booking_id}/release", auth=clients, response={200: BookingOut, 404: Error, 409: Error})
def bookings_release(request, booking_id: UUID):
    """End your booking early: the provider is paid for the time used minus the fee, the rest is refunded.
    Again: the same answer, no money moved."""
    return booking_view(booking_release(client=request.auth, booking_id=booking_id))


@market_router.post(
    "/gpus/{gpu_id}/reviews", auth=clients, response={201: ReviewOut, 403: Error, 404: Error, 409: Error, 422: Error}
)
def gpus_review(request, gpu_id: UUID, body: ReviewIn):
    """Rate a GPU you booked (1..5), once."""
    review = review_create(client=request.auth, gpu_id=gpu_id, rating=body.rating, comment=body.comment)
    return Status(201, review_view(review))


@market_router.get("/gpus/{gpu_id}/reviews", auth=any_principal, response={200: ReviewList, 404: Error})
def gpus_reviews(
    request, gpu_id: UUID, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)
):
    gpu, count, reviews = review_list(gpu_id, limit=limit, offset=offset)
    return {
        "items": [review_view(r) for r in reviews],
        "count": count,
        "rating_average": gpu.rating_average,
        "rating_count": gpu.rating_count,
    }


@market_router.get("/marketplace/edge-gpu/profiles", auth=any_principal, response=ProfileList)
def edge_gpu_profiles(request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000)):
    """Published specifications of consumer, edge and datacenter GPUs."""
    profiles = edge_profiles()
    return {"items": [profile_view(p) for p in profiles[offset : offset + limit]], "count": len(profiles)}


@market_router.post(
    "/marketplace/edge-gpu/{gpu_id}/optimize", auth=any_principal, response={200: OptimizeOut, 404: Error, 422: Error}
)
def edge_gpu_optimize(request, gpu_id: UUID, body: OptimizeIn):
    """Precision, batch size and power limit for a model on this GPU, from its profile and recorded
    telemetry, with the reasoning and the samples used."""
    result = edge_optimize(gpu_id=gpu_id, model_params_b=body.model_params_b, sequence_length=body.sequence_length)
    return {**result, "profile": profile_view(result["profile"])}
