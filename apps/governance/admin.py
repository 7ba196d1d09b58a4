from django.contrib import admin

from aitbc_site.admin import ReadOnlyAdmin, ReadOnlyInline
from apps.governance.models import Delegation, Event, GovernanceProfile, Parameter, Proposal, TransparencyReport, Vote


@admin.register(Parameter)
class ParameterAdmin(ReadOnlyAdmin):
    """Parameters change only when a proposal is executed (bounds checked there)."""

    list_display = ("name", "value", "updated_at")
    search_fields = ("name",)


@admin.register(GovernanceProfile)
class GovernanceProfileAdmin(admin.ModelAdmin):
    list_display = ("principal_id", "name", "role", "delegate_id", "created_at")
    list_filter = ("role",)
    search_fields = ("principal_id", "name")
    readonly_fields = ("principal_id", "delegate_id")


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    list_display = ("delegator_id", "delegate_id", "started_at", "ended_at")
    readonly_fields = ("delegator_id", "delegate_id", "started_at", "ended_at")


class VoteInline(ReadOnlyInline):
    model = Vote
    readonly_fields = ("voter_id", "choice", "weight", "reason", "created_at")


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = ("title", "category", "status", "for_votes", "against_votes", "voting_ends_at", "created_at")
    list_filter = ("status", "category")
    search_fields = ("title", "proposer_id")
    inlines = [VoteInline]
    # money and outcomes come from votes and the ledger, never from a form
    readonly_fields = (
        "proposer_id", "category", "execution_payload", "status", "snapshot_at", "proposer_power", "quorum",
        "for_votes", "against_votes", "abstain_votes", "voters", "voting_starts_at", "voting_ends_at",
        "executable_at", "decided_at", "executed_at", "executed_by", "execution_result", "canceled_at",
    )  # fmt: skip


@admin.register(TransparencyReport)
class TransparencyReportAdmin(ReadOnlyAdmin):
    list_display = ("period", "period_start", "period_end", "final", "generated_at")
    list_filter = ("period", "final")
    readonly_fields = ("period", "period_start", "period_end", "final", "data", "generated_at")


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("kind", "proposal_id", "principal_id", "created_at")
    list_filter = ("kind",)
    readonly_fields = ("kind", "proposal_id", "principal_id", "data")


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ("proposal", "voter_id", "choice", "weight", "created_at")
    list_filter = ("choice",)
    search_fields = ("proposal__id", "voter_id")
