"""Requests and responses of the job operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from modelwright.core.ints import INT32_MAX
from modelwright.core.models import Idempotent, Request
from modelwright.core.names import Name
from modelwright.core.pages import PageParams
from modelwright.pipelines.models import Digest

__all__ = [
    "BatchRunSpec",
    "JobDetail",
    "JobInfo",
    "JobRef",
    "JobSpec",
    "JobStatus",
    "LeaderboardSpec",
    "ListJobs",
    "PipelineRunSpec",
    "SignalJob",
    "StepInfo",
    "SubmitJob",
]

JobStatus = Literal["queued", "running", "waiting", "succeeded", "failed", "cancelled"]


class ListJobs(PageParams, Request):
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


# -- work a caller may submit to the platform's workers ------------------------------------
_Text = Annotated[str, Field(min_length=1, max_length=1024)]


class _Spec(BaseModel):
    def model_post_init(self, context: Any, /) -> None:
        # The kind tells the specs apart: it is sent even when left at its default.
        self.model_fields_set.add("kind")


class PipelineRunSpec(_Spec):
    """A pipeline of a project snapshot (a tar.gz uploaded as an artifact object)."""

    kind: Literal["pipeline.run"] = "pipeline.run"
    pipeline: Name
    project: Digest = Field(description="sha256 of the uploaded project snapshot (tar.gz).")
    params: list[_Text] = Field(default_factory=list, max_length=256, description="key=value.")
    cache: bool = True
    tags: list[Name] = Field(default_factory=list, max_length=256)
    to_outputs: list[Name] = Field(default_factory=list, max_length=256)
    experiment: Name | None = Field(
        default=None,
        description="Where the runs go (default: named after the project and the pipeline).",
    )


class BatchRunSpec(_Spec):
    """Batch inference of a model version over a dataset version."""

    kind: Literal["batch.run"] = "batch.run"
    model: _Text = Field(description="models:/<name>/<version> or models:/<name>@<alias>.")
    input: _Text = Field(description="Dataset version: name@v3 or env/name@v3.")
    output: Name = Field(description="Dataset the predictions are registered as.")
    id_column: _Text | None = None
    chunk_rows: int = Field(default=100_000, ge=1, le=INT32_MAX)
    workers: int | None = Field(default=None, ge=1, le=1024)
    executor: Literal["auto", "process", "ray", "inline"] = "auto"
    error_threshold: float = Field(default=0.01, ge=0.0, le=1.0)
    resume: bool = True
    method: Literal["predict", "predict_proba", "decision_function"] = "predict"


class LeaderboardSpec(_Spec):
    """Rank a model's versions, re-scored on one dataset version when ``dataset`` is given."""

    kind: Literal["leaderboard.run"] = "leaderboard.run"
    name: Name
    metric: _Text
    dataset: _Text | None = None
    label: _Text | None = None
    higher_is_better: bool | None = None
    set_challenger: bool = False


JobSpec = Annotated[PipelineRunSpec | BatchRunSpec | LeaderboardSpec, Field(discriminator="kind")]


class SubmitJob(Idempotent):
    workspace: Name
    environment: Name
    spec: JobSpec
    reason: str = Field(default="", max_length=1024, description="Why the job is started.")


class SignalJob(Request):
    job_id: Annotated[int, Field(ge=1, le=INT32_MAX)]
    name: Name = Field(description="The signal, as the workflow waits for it.")
    payload: dict[str, Any] = Field(default_factory=dict)
