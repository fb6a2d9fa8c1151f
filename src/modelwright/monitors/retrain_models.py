"""Requests and responses of the retraining action of monitors."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from modelwright.core.names import Name
from modelwright.monitors.models import MonitorRef
from modelwright.pipelines.models import Digest

__all__ = [
    "Cooldown",
    "RetrainRun",
    "RetrainStatus",
    "RetrainingAction",
    "RetrainingDetail",
    "RetrainingInfo",
    "SetRetraining",
]

RetrainStatus = Literal["skipped", "running", "succeeded", "failed"]
# At least a minute (an evaluation's window is); at most a year.
Cooldown = Annotated[int, Field(ge=60, le=366 * 86_400)]
_Param = Annotated[str, Field(min_length=3, max_length=1024, pattern=r"^[^=]+=")]


class SetRetraining(MonitorRef):
    project: Digest = Field(description="sha256 of the uploaded project snapshot (tar.gz).")
    pipeline: Name
    params: list[_Param] = Field(default_factory=list, max_length=256, description="key=value.")
    model: Name = Field(description="The registered model the fitted model becomes a version of.")
    output: Name = Field(default="model", description="The pipeline output holding the model.")
    example: Name | None = Field(
        default=None, description="The pipeline output holding an input example (a signature)."
    )
    train_in: Name | None = Field(
        default=None, description="Where the pipeline runs (default: the monitor's environment)."
    )
    promote_to: Name | None = Field(
        default=None,
        description="The environment the promotion request enters (default: the one after "
        "'train_in' on the promotion path).",
    )
    alias: Name | None = Field(default=None, description="Moved to the version once promoted.")
    cooldown_seconds: Cooldown = Field(
        default=6 * 3600, description="At most one retraining starts per cooldown."
    )


class RetrainRun(MonitorRef):
    force: bool = Field(default=False, description="Start even within the cooldown.")


class RetrainingAction(BaseModel):
    monitor: str
    project: str
    pipeline: str
    params: list[str]
    model: str
    output: str
    example: str | None
    train_in: str
    promote_to: str
    alias: str | None
    cooldown_seconds: int
    created_by: str = Field(description="The retraining runs, and requests, as this principal.")
    created_at: datetime
    last_started_at: datetime | None


class RetrainingInfo(BaseModel):
    id: int
    monitor: str
    trigger: Literal["alert", "manual"]
    rule: str | None
    status: RetrainStatus
    reason: str
    job_id: int | None
    run_id: str | None
    version: int | None
    promotion_id: int | None
    started_by: str
    created_at: datetime
    finished_at: datetime | None


class RetrainingDetail(BaseModel):
    action: RetrainingAction | None
    history: list[RetrainingInfo] = Field(description="Newest first.")
