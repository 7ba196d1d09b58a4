import uuid

from django.db import models


class Role(models.TextChoices):
    CLIENT = "client"
    MINER = "miner"
    ADMIN = "admin"
    SERVICE = "service"


class Principal(models.Model):
    """Someone who calls the API: a client, a miner, an admin or another service."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=16, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.name} ({self.role})"


class ApiKey(models.Model):
    """An API key, stored only as a keyed hash; the key itself is shown once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    principal = models.ForeignKey(Principal, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(max_length=16, help_text="the first characters of the key, to recognise it")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.prefix}… ({self.principal.name})"


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an Idempotency-Key, replayed for the same request."""

    principal_id = models.UUIDField()
    key = models.CharField(max_length=200)
    path = models.CharField(max_length=300)
    request_sha256 = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="empty while the first one runs")
    body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["principal_id", "key"], name="idempotency_key_per_principal")]

    def __str__(self):
        return f"{self.key} -> {self.status}"
