import uuid

from django.db import models


class Receipt(models.Model):
    """A signed job receipt (API.md "Receipts"); `body` is the receipt exactly as signed, signature included."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job_id = models.UUIDField(unique=True)
    miner_id = models.UUIDField(db_index=True)
    client_id = models.UUIDField(db_index=True)
    body = models.JSONField()
    block_height = models.PositiveBigIntegerField(null=True, blank=True, db_index=True, help_text="sealed in")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"receipt {self.id} for job {self.job_id}"


class Block(models.Model):
    """A sealed block of the log (API.md "Blocks"). Append-only: written once, never updated."""

    height = models.PositiveBigIntegerField(primary_key=True)
    hash = models.CharField(max_length=64, unique=True)
    prev_hash = models.CharField(max_length=64)
    merkle_root = models.CharField(max_length=64)
    sealed_at = models.CharField(max_length=40, help_text="exactly as hashed")
    tx_count = models.PositiveIntegerField()
    signature = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-height"]

    def __str__(self):
        return f"block {self.height} {self.hash[:12]}"


class BlockItem(models.Model):
    """A receipt or a ledger transaction as it was sealed."""

    block = models.ForeignKey(Block, on_delete=models.PROTECT, related_name="items")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=16)  # receipt | transaction
    hash = models.CharField(max_length=64, db_index=True)
    ref_id = models.UUIDField(help_text="the receipt or ledger entry")
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["block", "position"]
        constraints = [models.UniqueConstraint(fields=["block", "position"], name="block_item_position")]

    def __str__(self):
        return f"{self.kind} {self.hash[:12]} in block {self.block_id}"
