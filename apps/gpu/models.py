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
    uuid = models.CharField(max_length=100)
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
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["miner", "uuid"], name="gpu_unique_per_miner")]
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
