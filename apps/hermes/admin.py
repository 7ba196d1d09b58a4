from django.contrib import admin

from aitbc_site.admin import ReadOnlyAdmin, ReadOnlyInline
from apps.hermes.models import Agent, EdgeDeployment, EdgeReplica, Workflow, WorkflowStep


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("name", "owner_id", "miner_id", "unit_price", "region", "created_at")
    search_fields = ("name", "owner_id", "miner_id")
    readonly_fields = ("unit_price", "owner_id", "miner_id")


class StepInline(ReadOnlyInline):
    model = WorkflowStep
    fields = ("step_id", "type", "state", "job_id", "max_price", "depends_on", "error")
    readonly_fields = fields


@admin.register(Workflow)
class WorkflowAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "status", "client_id", "max_price", "created_at", "finished_at")
    list_filter = ("status", "kind")
    search_fields = ("id", "client_id")
    inlines = [StepInline]


class ReplicaInline(ReadOnlyInline):
    model = EdgeReplica
    fields = ("miner_id", "gpu_model", "profile", "state", "reason", "runner_version", "reported_at")
    readonly_fields = fields


@admin.register(EdgeDeployment)
class EdgeDeploymentAdmin(ReadOnlyAdmin):
    list_display = ("id", "runner", "replicas", "status", "owner_id", "created_at")
    list_filter = ("status",)
    search_fields = ("id", "runner", "owner_id")
    inlines = [ReplicaInline]


@admin.register(WorkflowStep)
class WorkflowStepAdmin(ReadOnlyAdmin):
    list_display = ("workflow", "step_id", "type", "state", "job_id", "agent_id", "submitted_at", "finished_at")
    list_filter = ("state", "type")
    search_fields = ("workflow__id", "step_id", "job_id")


@admin.register(EdgeReplica)
class EdgeReplicaAdmin(ReadOnlyAdmin):
    list_display = ("deployment", "miner_id", "gpu_model", "state", "reason", "runner_version", "reported_at")
    list_filter = ("state",)
    search_fields = ("deployment__id", "miner_id")
