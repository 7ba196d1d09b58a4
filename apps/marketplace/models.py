"""The GPU-hour order book: miners' offers (asks), clients' bids, and the fills between them."""

import uuid

from django.db import models

from aitbc_site.money import MoneyField


class OrderStatus(models.TextChoices):
    OPEN = "OPEN"
    PARTIAL = "PARTIAL"
    FILLED = "FILLED"
    CANCELED = "CANCELED"


LIVE = (OrderStatus.OPEN, OrderStatus.PARTIAL)


class Offer(models.Model):
    """A miner sells `hours` of a bundle of `gpu_count` GPUs at `price_per_hour` per GPU."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    miner_id = models.UUIDField(db_index=True)
    provider_id = models.UUIDField(db_index=True, help_text="the miner's principal, who is paid")
    gpu_model = models.CharField(max_length=100)
    gpu_class = models.CharField(max_length=100, db_index=True, help_text="the model, normalised: one book per class")
    gpu_memory_gb = models.PositiveIntegerField()
    gpu_count = models.PositiveIntegerField()
    cuda_version = models.CharField(max_length=16, blank=True)
    region = models.CharField(max_length=64, blank=True)
    price_per_hour = MoneyField()
    hours = MoneyField()
    remaining_hours = MoneyField()
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["price_per_hour", "created_at"]
        indexes = [models.Index(fields=["gpu_class", "status", "price_per_hour", "created_at"], name="offer_book")]

    def __str__(self):
        return f"ask {self.gpu_model} x{self.gpu_count} {self.price_per_hour}/h ({self.status})"


class Bid(models.Model):
    """A client buys `hours` of `gpu_count` GPUs at up to `max_price_per_hour` per GPU; the most it can
    cost is held in escrow until it is filled or canceled."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.UUIDField(db_index=True)
    gpu_model = models.CharField(max_length=100)
    gpu_class = models.CharField(max_length=100, db_index=True)
    min_gpu_memory_gb = models.PositiveIntegerField(default=0)
    gpu_count = models.PositiveIntegerField()
    region = models.CharField(max_length=64, blank=True)
    max_price_per_hour = MoneyField()
    hours = MoneyField()
    remaining_hours = MoneyField()
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-max_price_per_hour", "created_at"]
        indexes = [models.Index(fields=["gpu_class", "status", "-max_price_per_hour", "created_at"], name="bid_book")]

    def __str__(self):
        return f"bid {self.gpu_model} x{self.gpu_count} <= {self.max_price_per_hour}/h ({self.status})"


class FillStatus(models.TextChoices):
    PENDING = "PENDING"  # matched; escrow and booking not yet made
    BOOKED = "BOOKED"
    REFUSED = "REFUSED"  # the miner's GPUs were taken or offline: its hours and escrow went back to the bid


class Fill(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="fills")
    bid = models.ForeignKey(Bid, on_delete=models.PROTECT, related_name="fills")
    price_per_hour = MoneyField()
    hours = MoneyField()
    gpu_count = models.PositiveIntegerField()
    amount = MoneyField()
    status = models.CharField(max_length=16, choices=FillStatus.choices, default=FillStatus.PENDING)
    booking_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.hours} h x{self.gpu_count} at {self.price_per_hour}/h"
