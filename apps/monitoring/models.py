import uuid

from django.db import models


class WorkerProbe(models.Model):
    """One round trip through the broker: sent by beat (or on demand), recorded by whichever worker ran it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sent_at = models.DateTimeField()
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"probe {self.id} on {self.hostname}:{self.pid}"

    @property
    def latency_ms(self) -> float:
        return (self.created_at - self.sent_at).total_seconds() * 1000


class ServiceSample(models.Model):
    """One health check of one service, stored by `monitoring.sample_health` for the latency history."""

    service = models.CharField(max_length=64)
    status = models.CharField(max_length=8)  # "up" | "down"
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    latency_ms = models.FloatField()
    error = models.TextField(blank=True, default="")  # empty when up
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["service", "created_at"])]

    def __str__(self):
        return f"{self.service} {self.status} {self.latency_ms:.1f} ms"


class QueueSample(models.Model):
    """Messages waiting in one Celery queue at one moment, stored by `monitoring.sample_health`."""

    queue = models.CharField(max_length=255)
    depth = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["queue", "created_at"])]

    def __str__(self):
        return f"{self.queue}: {self.depth}"
