"""hermes: agents and their skills, workflows (DAGs of AI jobs), edge deployments of runners.

Jobs, miners and money live in other domains; they are referred to here by id only.
"""

import uuid

from django.db import models
from django.db.models import Q

from aitbc_site.money import MoneyField

REF = "$from"  # a step payload value {"$from": "step_id.path"} is that step's result at path


class Agent(models.Model):
    """A named offer of skills (job types) served by one miner, owned by that miner's operator."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_id = models.UUIDField(db_index=True, help_text="the principal that created it")
    name = models.CharField(max_length=100)
    skills = models.JSONField(default=list)
    unit_price = MoneyField(help_text="AIT per GPU-second the agent asks")
    region = models.CharField(max_length=64, blank=True)
    miner_id = models.UUIDField(db_index=True, help_text="the gpu service's miner that serves it")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["owner_id", "name"], name="agent_name_per_owner")]

    def __str__(self):
        return f"{self.name} ({', '.join(self.skills)})"


class WorkflowKind(models.TextChoices):
    WORKFLOW = "workflow"
    HYBRID = "hybrid"  # each step placed local or marketplace by the offload decision
    COLLABORATION = "collaboration"  # each step served by the agent skill routing picked


class WorkflowStatus(models.TextChoices):
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


class Workflow(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=16, choices=WorkflowKind.choices, default=WorkflowKind.WORKFLOW)
    name = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=16, choices=WorkflowStatus.choices, default=WorkflowStatus.RUNNING)
    max_price = MoneyField(help_text="the sum of its steps' max_price")
    plan = models.JSONField(default=dict, blank=True, help_text="hybrid placements or collaboration routing")
    error = models.CharField(max_length=500, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "updated_at"])]

    def __str__(self):
        return f"{self.kind} {self.id} ({self.status})"


class StepState(models.TextChoices):
    WAITING = "WAITING"  # a dependency has not completed
    QUEUED = "QUEUED"  # its job was submitted; from here it follows the job
    ASSIGNED = "ASSIGNED"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


STEP_FINAL = (StepState.COMPLETED, StepState.FAILED, StepState.CANCELED)
STEP_LIVE = (StepState.QUEUED, StepState.ASSIGNED, StepState.RUNNING)


class WorkflowStep(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="steps")
    step_id = models.CharField(max_length=64)
    position = models.PositiveIntegerField()
    type = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    constraints = models.JSONField(default=dict)
    max_price = MoneyField()
    ttl_seconds = models.PositiveIntegerField()
    depends_on = models.JSONField(default=list)
    state = models.CharField(max_length=16, choices=StepState.choices, default=StepState.WAITING)
    job_id = models.UUIDField(null=True, blank=True, unique=True)
    submit_key = models.CharField(max_length=200, unique=True, help_text="the job's Idempotency-Key: submitted once")
    agent_id = models.UUIDField(null=True, blank=True, help_text="collaboration: the agent routed to")
    error = models.CharField(max_length=500, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workflow", "position"]
        constraints = [models.UniqueConstraint(fields=["workflow", "step_id"], name="step_id_per_workflow")]

    def __str__(self):
        return f"{self.step_id} ({self.state})"


class DeploymentStatus(models.TextChoices):
    PENDING = "PENDING"  # some replica has not reported yet
    RUNNING = "RUNNING"  # every wanted replica is installed
    DEGRADED = "DEGRADED"  # fewer live replicas than wanted, and no edge miner left to place one on
    STOPPED = "STOPPED"


class EdgeDeployment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner_id = models.UUIDField(db_index=True)
    runner = models.CharField(max_length=64)
    constraints = models.JSONField(default=dict)
    replicas = models.PositiveIntegerField(help_text="how many miners should run it")
    status = models.CharField(max_length=16, choices=DeploymentStatus.choices, default=DeploymentStatus.PENDING)
    status_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.runner} x{self.replicas} ({self.status})"


class ReplicaState(models.TextChoices):
    PENDING = "PENDING"  # the miner has not reported yet
    INSTALLED = "INSTALLED"
    FAILED = "FAILED"  # the miner could not install it (reason)
    LOST = "LOST"  # its miner went offline; replaced by coordination
    RETIRED = "RETIRED"  # scaled down or stopped


REPLICA_LIVE = (ReplicaState.PENDING, ReplicaState.INSTALLED)


class EdgeReplica(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    deployment = models.ForeignKey(EdgeDeployment, on_delete=models.CASCADE, related_name="replica_set")
    miner_id = models.UUIDField(db_index=True)
    miner_principal_id = models.UUIDField(db_index=True)
    gpu_model = models.CharField(max_length=100)
    profile = models.CharField(max_length=100, help_text="the edge GPU profile that matched the GPU")
    state = models.CharField(max_length=16, choices=ReplicaState.choices, default=ReplicaState.PENDING)
    reason = models.CharField(max_length=500, blank=True)
    runner_version = models.CharField(max_length=200, blank=True, help_text="as the miner reported it")
    choice = models.JSONField(default=dict, help_text="why this miner was chosen")
    reported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["deployment", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["deployment", "miner_id"],
                condition=Q(state__in=["PENDING", "INSTALLED"]),
                name="one_live_replica_per_miner",
            )
        ]

    def __str__(self):
        return f"{self.deployment_id} on {self.miner_id}: {self.state}"
