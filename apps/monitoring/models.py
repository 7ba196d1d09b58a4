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
