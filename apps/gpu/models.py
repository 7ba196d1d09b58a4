import uuid

from django.db import models

from aitbc_site.money import MoneyField


class MinerStatus(models.TextChoices):
    ONLINE = "ONLINE"
    OFFLINE = "OFFLINE"  # deregistered; registering again brings it back


class MinerMode(models.TextChoices):
    CELERY = "celery"  # a GPU worker woken through its Celery queue
    POLL = "poll"  # an HTTP polling miner


class Miner(models.Model):
    """A miner's host: what it can run, what it charges, whether it is alive."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    principal_id = models.UUIDField(unique=True, help_text="the miner key's principal (one miner per principal)")
    name = models.CharField(max_length=100, blank=True)
    region = models.CharField(max_length=64, blank=True)
    mode = models.CharField(max_length=16, choices=MinerMode.choices, default=MinerMode.POLL)
    concurrency = models.PositiveIntegerField(default=1)
    capabilities = models.JSONField(default=dict)
    unit_price = MoneyField(help_text="AIT per GPU-second")
    status = models.CharField(max_length=16, choices=MinerStatus.choices, default=MinerStatus.ONLINE)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    inflight = models.PositiveIntegerField(default=0, help_text="as last reported by the miner")
    jobs_completed = models.PositiveIntegerField(default=0)
    jobs_failed = models.PositiveIntegerField(default=0)
    broker_password_sha256 = models.CharField(
        max_length=64, blank=True, help_text="the miner's own broker user's password, hashed (Redis ACL); empty: none"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.name or self.id} ({self.region or 'any region'})"


class GpuStatus(models.TextChoices):
    AVAILABLE = "AVAILABLE"
    BUSY = "BUSY"
    OFFLINE = "OFFLINE"


class Gpu(models.Model):
    """The GPU registry: one row per physical GPU a miner reported."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    miner = models.ForeignKey(Miner, on_delete=models.CASCADE, related_name="gpus")
    uuid = models.CharField(max_length=100, help_text="NVML's UUID: a GPU belongs to one miner")
    model = models.CharField(max_length=100)
    memory_mb = models.PositiveIntegerField()
    compute_capability = models.CharField(max_length=16, blank=True)
    cuda_version = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=16, choices=GpuStatus.choices, default=GpuStatus.AVAILABLE)
    utilization_gpu = models.FloatField(null=True, blank=True)
    memory_used_mb = models.FloatField(null=True, blank=True)
    temperature_c = models.FloatField(null=True, blank=True)
    power_w = models.FloatField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    rating_average = models.FloatField(null=True, blank=True, help_text="mean of its reviews' ratings")
    rating_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["uuid"], name="gpu_uuid_unique")]
        ordering = ["miner", "uuid"]
        verbose_name = "GPU"

    def __str__(self):
        return f"{self.model} {self.uuid}"


class GpuSample(models.Model):
    """Heartbeat telemetry of one GPU at one moment."""

    gpu = models.ForeignKey(Gpu, on_delete=models.CASCADE, related_name="samples")
    utilization_gpu = models.FloatField(null=True, blank=True)
    memory_used_mb = models.FloatField(null=True, blank=True)
    temperature_c = models.FloatField(null=True, blank=True)
    power_w = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.gpu_id} @ {self.created_at}"


class BookingStatus(models.TextChoices):
    ACTIVE = "ACTIVE"  # paid for in escrow, running or about to
    RELEASED = "RELEASED"  # ended early by its client: the provider paid pro rata, the rest refunded
    COMPLETED = "COMPLETED"  # ran its full time: the provider paid in full


class GpuBooking(models.Model):
    """GPU hours a client has paid for into escrow (`escrow_key`), from a direct booking or an order-book fill.

    The provider is paid from the escrow when the booking ends: in full at `ends_at`, pro rata when the
    client releases it early (the rest goes back to the client). Amounts are per the whole booking.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=200, unique=True, help_text="idempotency: the same key is the same booking")
    miner_id = models.UUIDField(db_index=True)
    provider_principal_id = models.UUIDField(help_text="the miner's principal, who is paid")
    client_id = models.UUIDField(db_index=True)
    gpu_ids = models.JSONField(
        default=list, blank=True, help_text="the registry's GPU ids it holds from starts_at to ends_at (gpu_count)"
    )
    gpu_model = models.CharField(max_length=100)
    gpu_count = models.PositiveIntegerField()
    hours = MoneyField()
    price_per_hour = MoneyField(help_text="AIT per GPU-hour")
    amount = MoneyField(help_text="hours x price_per_hour x gpu_count, all held in escrow")
    escrow_key = models.CharField(max_length=200, help_text="the ledger hold that pays for it")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True, help_text="when it was released or completed")
    status = models.CharField(max_length=16, choices=BookingStatus.choices, default=BookingStatus.ACTIVE)
    paid = MoneyField(null=True, blank=True, help_text="to the provider, after the fee")
    refunded = MoneyField(null=True, blank=True, help_text="back to the client")
    fee = MoneyField(null=True, blank=True, help_text="to the platform")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "ends_at"]), models.Index(fields=["miner_id", "status"])]

    def __str__(self):
        return f"{self.gpu_model} x{self.gpu_count} for {self.hours} h ({self.status})"


class GpuReview(models.Model):
    """A client's rating of a GPU it booked; one per client and GPU."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    gpu = models.ForeignKey(Gpu, on_delete=models.CASCADE, related_name="reviews")
    client_id = models.UUIDField()
    booking_id = models.UUIDField(help_text="the booking that entitled the client to review")
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["gpu", "client_id"], name="gpu_review_one_per_client"),
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="gpu_review_rating_1_5"),
        ]

    def __str__(self):
        return f"{self.rating}/5 for {self.gpu_id}"


class GpuCategory(models.TextChoices):
    CONSUMER = "consumer"
    EDGE = "edge"
    DATACENTER = "datacenter"


class EdgeGpuProfile(models.Model):
    """A GPU model's published specification, which edge optimisation starts from."""

    model = models.CharField(max_length=100, unique=True, help_text="matched inside a GPU's reported name")
    category = models.CharField(max_length=16, choices=GpuCategory.choices)
    memory_mb = models.PositiveIntegerField()
    tdp_w = models.PositiveIntegerField(help_text="board power (the top of the range for configurable modules)")
    fp32_tflops = models.FloatField()
    fp16_tflops = models.FloatField(help_text="dense FP16 tensor throughput; 0 when the card has no tensor cores")
    bf16 = models.BooleanField(help_text="tensor cores support bfloat16")
    int8_tops = models.FloatField(help_text="dense INT8 tensor throughput; 0 when unsupported")
    compute_capability = models.CharField(max_length=16)
    source = models.CharField(max_length=200, blank=True, help_text="where the numbers come from")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "model"]

    def __str__(self):
        return self.model
