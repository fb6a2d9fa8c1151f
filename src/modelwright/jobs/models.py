"""Requests and responses of the job operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from modelwright.core.ints import INT32_MAX
from modelwright.core.models import Request
from modelwright.core.names import Name

__all__ = ["JobDetail", "JobInfo", "JobRef", "JobStatus", "ListJobs", "StepInfo"]

JobStatus = Literal["queued", "running", "waiting", "succeeded", "failed", "cancelled"]


class ListJobs(Request):
    status: JobStatus | None = None
    kind: str | None = Field(default=None, max_length=64, description="A workflow kind.")
    workspace: Name | None = None
    environment: Name | None = None
    limit: int = Field(default=100, ge=1, le=10_000)


class JobRef(Request):
    job_id: Annotated[int, Field(ge=1, le=INT32_MAX)]


class StepInfo(BaseModel):
    seq: int
    name: str
    status: str = Field(description="succeeded, failed, retrying or sleeping.")
    attempts: int = Field(description="Failed attempts so far.")
    started_at: datetime
    finished_at: datetime | None
    seconds: float | None = Field(description="How long the step's last attempt took.")
    result: Any
    error: str | None


class JobInfo(BaseModel):
    id: int
    kind: str
    queue: str
    workspace: str = Field(description="Empty for a platform-wide job.")
    environment: str
    action: str = Field(description="Needed in the job's environment to cancel or retry it.")
    status: JobStatus
    inputs: dict[str, Any]
    reason: str = Field(description="Why the job was started.")
    started_by: str
    result: Any
    error: str | None
    waiting_for: str | None = Field(description="The signal a waiting job waits for.")
    wake_at: datetime | None
    cancel_requested: bool
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class JobDetail(JobInfo):
    steps: list[StepInfo]
