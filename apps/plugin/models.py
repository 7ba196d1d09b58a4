import uuid

from django.db import models
from django.db.models import Q


class PluginKind(models.TextChoices):
    RUNNER = "runner"  # a job runner miners load through the `aitbc.runners` entry point group
    TOOL = "tool"  # client-side software: listed, reviewed and checksummed, never run by miners


class Plugin(models.Model):
    """One registered version of a plugin: what a miner's install must match, byte for byte (sha256)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_id = models.UUIDField(db_index=True, help_text="the principal that registered the name first")
    name = models.CharField(max_length=64, help_text="for a runner: the job type (its entry point's name)")
    version = models.CharField(max_length=64)
    kind = models.CharField(max_length=16, choices=PluginKind.choices)
    entry_point = models.CharField(max_length=200, help_text="module:attr")
    sha256 = models.CharField(max_length=64, help_text="see aitbc_miner.plugins.distribution_sha256")
    description = models.TextField(blank=True)
    yanked_at = models.DateTimeField(null=True, blank=True, help_text="withdrawn: miners refuse to run it")
    yank_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["name", "version"], name="plugin_name_version")]

    def __str__(self):
        return f"{self.name} {self.version} ({self.kind})"


class InstallStatus(models.TextChoices):
    VERIFIED = "verified"  # the registered name, version, entry point and sha256
    MISMATCH = "mismatch"  # registered, but the installed code is not what was registered
    UNREGISTERED = "unregistered"  # no such name and version in the registry
    YANKED = "yanked"  # registered, then withdrawn


class PluginInstall(models.Model):
    """What one miner last reported about one runner plugin it has installed, and the registry's verdict."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    miner_id = models.UUIDField()
    principal_id = models.UUIDField(db_index=True)
    plugin = models.ForeignKey(Plugin, null=True, blank=True, on_delete=models.SET_NULL, related_name="installs")
    name = models.CharField(max_length=64)
    version = models.CharField(max_length=64)
    entry_point = models.CharField(max_length=200)
    distribution = models.CharField(max_length=200, blank=True)
    reported_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=16, choices=InstallStatus.choices)
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "miner_id"]
        constraints = [models.UniqueConstraint(fields=["miner_id", "name"], name="plugin_install_per_miner")]
        indexes = [models.Index(fields=["plugin", "status"])]

    def __str__(self):
        return f"{self.name} {self.version} on {self.miner_id}: {self.status}"


class PluginReview(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="reviews")
    principal_id = models.UUIDField()
    rating = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["plugin", "principal_id"], name="plugin_review_once"),
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="plugin_review_rating_1_5"),
        ]

    def __str__(self):
        return f"{self.rating}/5 for {self.plugin_id}"
