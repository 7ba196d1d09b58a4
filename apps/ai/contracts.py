"""What the ai app shares with other apps: plain values, and the job constraints schema other APIs accept too."""

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from ninja import Field, Schema
from pydantic import ConfigDict


class Constraints(Schema):
    model_config = ConfigDict(extra="forbid")
    gpu_model: str | None = Field(default=None, max_length=100)
    min_vram_gb: float | None = Field(default=None, ge=0, le=4096)
    cuda: str | None = Field(default=None, pattern=r"^[0-9]{1,3}(\.[0-9]{1,3})?$")
    models: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=50)
    region: str | None = Field(default=None, max_length=64)


@dataclass(frozen=True)
class JobInfo:
    job_id: UUID
    client_id: object
    type: str
    state: str
    result: dict | None
    error: dict | None
    assigned_miner_id: object
    created_at: object
    started_at: object
    finished_at: object
    price: object

    @classmethod
    def from_model(cls, job) -> "JobInfo":
        return cls(
            job_id=job.id,
            client_id=job.client_id,
            type=job.type,
            state=job.state,
            result=job.result,
            error=job.error,
            assigned_miner_id=job.assigned_miner_id,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            price=job.price,
        )
