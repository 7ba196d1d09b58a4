"""The ledger: the only place money lives. Double entry: every entry's postings sum to zero."""

import uuid

from django.db import models
from django.db.models import Q

from aitbc_site.money import MoneyField


class AccountKind(models.TextChoices):
    PRINCIPAL = "principal"
    TREASURY = "treasury"  # the DAO treasury, holding the genesis supply
    FEES = "fees"  # platform fees
    ISSUANCE = "issuance"  # the counterpart of the genesis supply (its balance is minus the supply)


class Account(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    owner_id = models.UUIDField(null=True, blank=True, help_text="the principal, for principal accounts")
    balance = MoneyField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner_id"], name="one_account_per_principal"),
            models.UniqueConstraint(
                fields=["kind"], condition=~Q(kind="principal"), name="one_system_account_per_kind"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.owner_id or ''}".strip()


class Entry(models.Model):
    """One balanced journal entry; its key makes every money movement happen at most once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=32)
    memo = models.CharField(max_length=500, blank=True)
    reference = models.CharField(max_length=100, blank=True, db_index=True, help_text="e.g. the job id")
    block_height = models.PositiveBigIntegerField(null=True, blank=True, db_index=True, help_text="sealed in")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "entries"

    def __str__(self):
        return f"{self.kind} {self.key}"


class Posting(models.Model):
    entry = models.ForeignKey(Entry, on_delete=models.PROTECT, related_name="postings")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="postings")
    amount = MoneyField(help_text="positive: credit to the account; negative: debit")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.amount} -> {self.account}"


class HoldStatus(models.TextChoices):
    HELD = "HELD"
    CAPTURED = "CAPTURED"
    RELEASED = "RELEASED"


class Hold(models.Model):
    """Money reserved for an open job, bid or booking: it stays in the balance but is not available."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=200, unique=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    amount = MoneyField()
    status = models.CharField(max_length=16, choices=HoldStatus.choices, default=HoldStatus.HELD)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["account", "status"])]

    def __str__(self):
        return f"{self.key} {self.amount} {self.status}"
