from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict

from aitbc_site.inputs import Amount, AmountOrZero
from apps.ai.contracts import Constraints

SKILL = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$"
STEP_ID = r"^[A-Za-z0-9_\-]{1,64}$"
Skill = Annotated[str, Field(pattern=SKILL)]
StepId = Annotated[str, Field(pattern=STEP_ID)]


class StepIn(Schema):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=STEP_ID)
    type: str = Field(max_length=64, description="the job type (for a collaboration: the skill)")
    payload: dict[str, Any] = Field(
        default_factory=dict, description='{"$from": "STEP"} or {"$from": "STEP.key"} reads a dependency\'s result'
    )
    constraints: Constraints = Field(default_factory=Constraints)
    max_price: Amount
    ttl_seconds: int = Field(900, ge=1, le=10_000_000)
    depends_on: list[StepId] = Field(default_factory=list, max_length=100)


class StepOut(Schema):
    id: str
    type: str
    job_id: UUID | None
    state: str
    depends_on: list[str]
    max_price: str
    agent_id: UUID | None
    error: str | None
    submitted_at: str | None
    finished_at: str | None


class WorkflowOut(Schema):
    workflow_id: UUID
    kind: str
    name: str
    status: str
    max_price: str
    error: str | None
    plan: dict
    created_at: str
    finished_at: str | None
    steps: list[StepOut]


class WorkflowList(Schema):
    items: list[WorkflowOut]
    count: int


class LocalIn(Schema):
    model_config = ConfigDict(extra="forbid")
    gpu_model: str = Field(default="", max_length=100)
    region: str = Field(default="", max_length=64, description="where your own miner is registered (hybrid)")
    queue_depth: int = Field(default=0, ge=0, le=1_000_000)
    concurrency: int = Field(default=1, ge=1, le=1024)
    unit_price: AmountOrZero = Field(default=Decimal(0), description="AIT per GPU-second")
