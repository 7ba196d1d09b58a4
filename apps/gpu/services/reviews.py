"""GPU reviews: a client that booked a GPU rates it, once; the GPU's average and count follow."""

from uuid import UUID

from django.db import transaction
from django.db.models import Avg, Count
from django.utils import timezone

from aitbc_site.errors import Conflict, Forbidden, Invalid, NotFound
from apps.accounts.facade import PrincipalView
from apps.gpu.models import Gpu, GpuBooking, GpuReview

DB = "gpu"


def review_create(*, client: PrincipalView, gpu_id: UUID, rating: int, comment: str = "") -> GpuReview:
    """A client that booked this GPU rates it (1..5), once; the GPU's average and count follow."""
    if not 1 <= rating <= 5:
        raise Invalid("rating must be from 1 to 5")
    gpu = Gpu.objects.filter(id=gpu_id).first()
    if gpu is None:
        raise NotFound(f"no GPU {gpu_id}")
    mine = GpuBooking.objects.filter(client_id=client.id, miner_id=gpu.miner_id).order_by("created_at")
    booking = next((b for b in mine if str(gpu.id) in b.gpu_ids), None)
    if booking is None:
        raise Forbidden(f"only a client who booked GPU {gpu_id} may review it")
    with transaction.atomic(using=DB):
        gpu = Gpu.objects.select_for_update().get(id=gpu.id)
        if GpuReview.objects.filter(gpu=gpu, client_id=client.id).exists():
            raise Conflict(f"you already reviewed GPU {gpu_id}", code="already_reviewed")
        review = GpuReview.objects.create(
            gpu=gpu, client_id=client.id, booking_id=booking.id, rating=rating, comment=comment
        )
        stats = gpu.reviews.aggregate(average=Avg("rating"), count=Count("id"))
        Gpu.objects.filter(id=gpu.id).update(
            rating_average=stats["average"], rating_count=stats["count"], updated_at=timezone.now()
        )
    return review
