"""Governance: parameters, profiles, delegations, proposals, votes, transparency reports and the event log.

Principals are referenced by id (they live in the default database); money lives in the trading ledger.
"""

import uuid

from django.db import models
from django.db.models import Q

from aitbc_site.money import MoneyField


class Parameter(models.Model):
    """A platform parameter changed from its default (by governance or an admin)."""

    name = models.CharField(max_length=64, primary_key=True)
    value = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.name}={self.value}"


class Role(models.TextChoices):
    MEMBER = "member"
    DELEGATE = "delegate"  # someone delegates their voting power to it
    COUNCIL = "council"  # set by an admin: may cancel a proposal before its vote starts
    ADMIN = "admin"  # the principal has the admin role


class GovernanceProfile(models.Model):
    """A principal's standing in governance; made the first time the principal does or reads anything here."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    principal_id = models.UUIDField(unique=True)
    name = models.CharField(max_length=100, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    delegate_id = models.UUIDField(null=True, blank=True, db_index=True, help_text="whom my power goes to")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.name or self.principal_id} ({self.role})"


class Delegation(models.Model):
    """One period during which `delegator_id`'s balance counted for `delegate_id` (history, for snapshots)."""

    delegator_id = models.UUIDField(db_index=True)
    delegate_id = models.UUIDField(db_index=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delegator_id"], condition=Q(ended_at=None), name="one_open_delegation")
        ]

    def __str__(self):
        return f"{self.delegator_id} -> {self.delegate_id}"


class Category(models.TextChoices):
    TEXT = "text"
    PARAMETER = "parameter"
    FUNDING = "funding"


class Status(models.TextChoices):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    SUCCEEDED = "SUCCEEDED"
    DEFEATED = "DEFEATED"
    EXECUTED = "EXECUTED"
    CANCELED = "CANCELED"


class Proposal(models.Model):
    """Its windows, quorum and snapshot are fixed when it is made; tallies grow with each vote."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    proposer_id = models.UUIDField(db_index=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=16, choices=Category.choices)
    execution_payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    snapshot_at = models.DateTimeField(help_text="voting power is the ledger balance at this moment")
    proposer_power = MoneyField()
    voting_starts_at = models.DateTimeField(db_index=True)
    voting_ends_at = models.DateTimeField(db_index=True)
    executable_at = models.DateTimeField()
    quorum = MoneyField()
    for_votes = MoneyField(default=0)
    against_votes = MoneyField(default=0)
    abstain_votes = MoneyField(default=0)
    voters = models.PositiveIntegerField(default=0)
    decided_at = models.DateTimeField(null=True, blank=True)
    executed_at = models.DateTimeField(null=True, blank=True)
    executed_by = models.UUIDField(null=True, blank=True)
    execution_result = models.JSONField(default=dict, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.title} ({self.status})"


class VoteChoice(models.TextChoices):
    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"


class Vote(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="votes")
    voter_id = models.UUIDField(db_index=True)
    choice = models.CharField(max_length=8, choices=VoteChoice.choices)
    weight = MoneyField(help_text="the voter's power at the proposal's snapshot")
    reason = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "voter_id"], name="one_vote_per_voter")]

    def __str__(self):
        return f"{self.voter_id} {self.choice} {self.weight}"


class Period(models.TextChoices):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class TransparencyReport(models.Model):
    """What governance did in one period, from stored proposals, votes and ledger flows."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    period = models.CharField(max_length=8, choices=Period.choices)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    final = models.BooleanField(default=False, help_text="the period had ended when it was generated")
    data = models.JSONField(default=dict)
    generated_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "period"]
        constraints = [models.UniqueConstraint(fields=["period", "period_start"], name="one_report_per_period")]

    def __str__(self):
        return f"{self.period} from {self.period_start:%Y-%m-%d}"


class Event(models.Model):
    """The governance event log served at /v1/transactions: what happened, to what, by whom."""

    kind = models.CharField(max_length=32)
    proposal_id = models.UUIDField(null=True, blank=True, db_index=True)
    principal_id = models.UUIDField(null=True, blank=True)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.kind} {self.proposal_id or ''}".strip()
