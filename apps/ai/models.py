import uuid

from django.db import models
from django.db.models import Q

from aitbc_site.money import MoneyField


class JobState(models.TextChoices):
    PENDING = "PENDING"  # stored, escrow not yet held (a moment during submit)
    QUEUED = "QUEUED"
    ASSIGNED = "ASSIGNED"  # woken on one miner's GPU worker, not yet claimed
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


TERMINAL_STATES = (JobState.COMPLETED, JobState.FAILED, JobState.CANCELED, JobState.EXPIRED)
HELD_STATES = (JobState.ASSIGNED, JobState.RUNNING)


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.UUIDField(db_index=True)
    type = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    constraints = models.JSONField(default=dict)
    # the constraints, as columns the claim query filters on
    region = models.CharField(max_length=64, blank=True)
    gpu_model = models.CharField(max_length=100, blank=True)
    min_vram_mb = models.PositiveIntegerField(default=0)
    min_cuda = models.PositiveIntegerField(default=0, help_text="major * 100 + minor")
    models_required = models.JSONField(default=list)
    max_price = MoneyField()
    expected_units = MoneyField(help_text="estimated GPU-seconds")
    priority = models.PositiveSmallIntegerField(default=0)
    ttl_seconds = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="runs started")
    max_attempts = models.PositiveIntegerField(default=3)
    assigned_miner_id = models.UUIDField(null=True, blank=True)
    assigned_principal_id = models.UUIDField(null=True, blank=True)
    unit_price = MoneyField(null=True, blank=True, help_text="the assigned miner's, per GPU-second")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    result = models.JSONField(null=True, blank=True)
    metrics = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    input_sha256 = models.CharField(max_length=64)
    output_sha256 = models.CharField(max_length=64, blank=True)
    units = MoneyField(null=True, blank=True)
    price = MoneyField(null=True, blank=True)
    fee = MoneyField(null=True, blank=True)
    receipt_id = models.UUIDField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    request_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "priority", "created_at"]),
            models.Index(fields=["assigned_miner_id", "state"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client_id", "idempotency_key"], condition=~Q(idempotency_key=""), name="job_idempotency"
            )
        ]

    def __str__(self):
        return f"{self.type} job {self.id} ({self.state})"


class JobAttempt(models.Model):
    """One run of a job on one miner, and how it ended."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="runs")
    number = models.PositiveIntegerField()
    miner_id = models.UUIDField(db_index=True)
    outcome = models.CharField(max_length=16, default="running")
    error = models.JSONField(null=True, blank=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="attempt_unique_per_job")]

    def __str__(self):
        return f"{self.job_id} #{self.number} on {self.miner_id}: {self.outcome}"
