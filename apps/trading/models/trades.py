"""Bespoke trades: a buyer's request, sellers' scored offers (matches), an agreement, its settlement."""

import uuid

from django.db import models

from aitbc_site.money import MoneyField


class TradeType(models.TextChoices):
    COMPUTE = "compute"  # GPU time for a workload
    AI_SERVICE = "ai_service"  # a model or service run for the buyer
    DATA = "data"


class RequestStatus(models.TextChoices):
    OPEN = "OPEN"
    AGREED = "AGREED"
    CANCELED = "CANCELED"


class TradeRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    buyer_id = models.UUIDField(db_index=True)
    trade_type = models.CharField(max_length=16, choices=TradeType.choices)
    title = models.CharField(max_length=200)
    requirements = models.JSONField(default=dict)
    budget = MoneyField()
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    regions = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.OPEN)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.title} ({self.status})"


class MatchStatus(models.TextChoices):
    PROPOSED = "PROPOSED"  # the seller's offer
    COUNTERED = "COUNTERED"  # new terms from either side
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"


class SettlementMode(models.TextChoices):
    IMMEDIATE = "immediate"  # paid in full when accepted
    ESCROW = "escrow"  # held when accepted, paid when the buyer settles
    MILESTONES = "milestones"  # held when accepted, paid milestone by milestone


class TradeMatch(models.Model):
    """A seller's offer on a request, scored for the buyer, negotiated until one side accepts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.ForeignKey(TradeRequest, on_delete=models.CASCADE, related_name="matches")
    seller_id = models.UUIDField(db_index=True)
    price = MoneyField()
    specification = models.JSONField(default=dict)
    region = models.CharField(max_length=64, blank=True)
    settlement = models.CharField(max_length=16, choices=SettlementMode.choices, default=SettlementMode.ESCROW)
    milestones = models.JSONField(default=list)
    message = models.CharField(max_length=1000, blank=True)
    score = models.FloatField(default=0)
    score_breakdown = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=MatchStatus.choices, default=MatchStatus.PROPOSED)
    proposed_by = models.CharField(max_length=8, default="seller")  # who made the terms now on the table
    rounds = models.PositiveIntegerField(default=1)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-score", "created_at"]
        constraints = [models.UniqueConstraint(fields=["request", "seller_id"], name="one_match_per_seller")]

    def __str__(self):
        return f"{self.seller_id} offers {self.price} ({self.status})"


class AgreementStatus(models.TextChoices):
    ACTIVE = "ACTIVE"
    SETTLED = "SETTLED"
    CANCELED = "CANCELED"


class TradeAgreement(models.Model):
    """What a buyer and a seller agreed: from a negotiated trade, or from a fill of the GPU-hour order book
    (origin "market": then the fill's GPU booking settles it)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    origin = models.CharField(max_length=8, default="trade")  # trade | market
    request = models.OneToOneField(
        TradeRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="agreement"
    )
    match = models.OneToOneField(TradeMatch, null=True, blank=True, on_delete=models.PROTECT, related_name="agreement")
    fill_id = models.UUIDField(null=True, blank=True, unique=True, help_text="the order-book fill (origin market)")
    buyer_id = models.UUIDField(db_index=True)
    seller_id = models.UUIDField(db_index=True)
    price = MoneyField()
    settlement = models.CharField(max_length=16, choices=SettlementMode.choices)
    terms = models.JSONField(default=dict)
    fee_bps = models.PositiveIntegerField()
    settled_amount = MoneyField(default=0)
    status = models.CharField(max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"agreement {self.id} ({self.status})"


class TradeMilestone(models.Model):
    agreement = models.ForeignKey(TradeAgreement, on_delete=models.CASCADE, related_name="milestones")
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    amount = MoneyField()
    settled = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["agreement", "position"]

    def __str__(self):
        return f"{self.title}: {self.amount}"


class TradeSettlement(models.Model):
    """One payment under an agreement, through the ledger: the seller gets amount - fee."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agreement = models.ForeignKey(TradeAgreement, on_delete=models.PROTECT, related_name="settlements")
    milestone = models.OneToOneField(TradeMilestone, on_delete=models.PROTECT, null=True, blank=True)
    key = models.CharField(max_length=200, unique=True)
    amount = MoneyField()
    fee = MoneyField()
    entry_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.amount} under {self.agreement_id}"


class TradeEvent(models.Model):
    """The trading domain's event log (GET /v1/transactions)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=32)
    request_id = models.UUIDField(null=True, blank=True)
    match_id = models.UUIDField(null=True, blank=True)
    agreement_id = models.UUIDField(null=True, blank=True)
    actor_id = models.UUIDField(null=True, blank=True)
    buyer_id = models.UUIDField(db_index=True)
    seller_id = models.UUIDField(null=True, blank=True, db_index=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} {self.created_at}"
