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
    pinned_miner_id = models.UUIDField(null=True, blank=True, help_text="only this miner may run it")
    assigned_miner_id = models.UUIDField(null=True, blank=True)
    assigned_principal_id = models.UUIDField(null=True, blank=True)
    quoted_unit_price = MoneyField(
        null=True, blank=True, help_text="per GPU-second: the price a routed agent advertised, set at submit"
    )
    unit_price = MoneyField(
        null=True, blank=True, help_text="per GPU-second, fixed when the job is assigned (the quote, else the miner's)"
    )
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
    reported_units = MoneyField(null=True, blank=True, help_text="GPU-seconds the miner reported")
    units = MoneyField(
        null=True, blank=True, help_text="GPU-seconds billed: the reported ones, at most the lease time x the GPUs held"
    )
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


class StudyStatus(models.TextChoices):
    RUNNING = "RUNNING"  # some of its jobs have not finished
    COMPLETED = "COMPLETED"  # every job finished, at least one completed
    FAILED = "FAILED"  # every job finished, none completed


class Benchmark(models.Model):
    """Benchmark jobs of one type on chosen miners; their measured speed steers dispatch for that type."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.UUIDField(db_index=True)
    job_type = models.CharField(max_length=64)
    payload = models.JSONField(default=dict, help_text="the workload every run gets (validated)")
    status = models.CharField(max_length=16, choices=StudyStatus.choices, default=StudyStatus.RUNNING)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.job_type} benchmark {self.id} ({self.status})"


class BenchmarkRun(models.Model):
    """One benchmark job on one miner and, once it completed, its seconds by the platform's clock, from the
    claim to the result (apps.ai.selectors.speeds), not the duration the miner reported."""

    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="runs")
    miner_id = models.UUIDField()
    job_type = models.CharField(max_length=64)
    job_id = models.UUIDField(unique=True)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    seconds = models.FloatField(null=True, blank=True, help_text="metrics.duration_ms / 1000 of the completed job")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["benchmark", "id"]
        indexes = [models.Index(fields=["job_type", "miner_id"])]

    def __str__(self):
        return f"{self.job_type} on {self.miner_id}: {self.seconds}"


class TuneStudy(models.Model):
    """A parameter sweep: one job per combination of the parameters; the best by the objective wins."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.UUIDField(db_index=True)
    job_type = models.CharField(max_length=64)
    base_payload = models.JSONField(default=dict)
    parameters = models.JSONField(default=dict, help_text="name -> list of values")
    metric = models.CharField(max_length=64)
    goal = models.CharField(max_length=3, choices=[("min", "min"), ("max", "max")])
    max_price_per_job = MoneyField()
    status = models.CharField(max_length=16, choices=StudyStatus.choices, default=StudyStatus.RUNNING)
    best_trial = models.ForeignKey("TuneTrial", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"tune {self.id} of {self.job_type} ({self.status})"


class TuneTrial(models.Model):
    study = models.ForeignKey(TuneStudy, on_delete=models.CASCADE, related_name="trials")
    number = models.PositiveIntegerField()
    params = models.JSONField(default=dict)
    job_id = models.UUIDField(unique=True)
    state = models.CharField(max_length=16, choices=JobState.choices, default=JobState.QUEUED)
    value = models.FloatField(null=True, blank=True, help_text="the objective's value, once completed")
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["study", "number"]
        constraints = [models.UniqueConstraint(fields=["study", "number"], name="tune_trial_number")]

    def __str__(self):
        return f"trial {self.number} of {self.study_id}: {self.value}"
