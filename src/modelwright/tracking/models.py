"""Requests and responses of the tracking operations."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    model_validator,
)

from modelwright.core.ints import ByteSize, DbInt64
from modelwright.core.models import Compact, Idempotent, Request
from modelwright.core.names import Name
from modelwright.core.pages import MAX_TOKEN, PageParams

__all__ = [
    "KEY_PATTERN",
    "MAX_KEY",
    "MAX_PARAM_VALUE",
    "MIN_RUN_PREFIX",
    "ArtifactFile",
    "CompareRuns",
    "DeleteExperiment",
    "DeleteRun",
    "Deletion",
    "EndRun",
    "ExperimentInfo",
    "ExperimentRef",
    "Key",
    "ListExperiments",
    "LogArtifacts",
    "LogBatch",
    "LogBatchResult",
    "MetricBatch",
    "MetricHistory",
    "MetricHistoryRequest",
    "NewRunId",
    "RunComparison",
    "RunDetail",
    "RunId",
    "RunInfo",
    "RunRef",
    "RunStatus",
    "SearchRuns",
    "StartRun",
    "ViewType",
]

MAX_KEY = 250
MAX_PARAM_VALUE = 6000
_KEY = re.compile(r"[A-Za-z0-9_\-. /:]+")
_RUN_ID = re.compile(r"[0-9a-f]{32}")
# Where a run is named, a prefix this long or longer names it when no other run shares it.
MIN_RUN_PREFIX = 8
_RUN_REF = re.compile(rf"[0-9a-f]{{{MIN_RUN_PREFIX},32}}")

# Which of the runs or experiments a listing shows, as MLflow's ``ViewType`` says it.
ViewType = Literal["active_only", "deleted_only", "all"]
_VIEW_TYPE = "active_only: not deleted (the default); deleted_only: deleted ones; all: both."

# "lost" is never stored: it is how a running run whose heartbeats stopped is shown.
RunStatus = Literal["running", "lost", "finished", "failed", "killed"]


def _key(value: str) -> str:
    if not value:
        raise ValueError("key must not be empty")
    if len(value) > MAX_KEY:
        raise ValueError(f"key must be at most {MAX_KEY} characters (got {len(value)})")
    if not _KEY.fullmatch(value) or ".." in value.split("/") or value.startswith("/"):
        raise ValueError(
            "key may contain letters, digits, '_', '-', '.', ' ', ':' and '/' "
            f"(not a leading '/' or a '..' segment); got {value!r}"
        )
    return value


def _new_run_id(value: str) -> str:
    if not _RUN_ID.fullmatch(value):
        raise ValueError(f"run id must be 32 lowercase hex characters (got {value[:80]!r})")
    return value


def _run_id(value: str) -> str:
    if not _RUN_REF.fullmatch(value):
        raise ValueError(
            "run id must be 32 lowercase hex characters, or a unique prefix of "
            f"{MIN_RUN_PREFIX} or more of them (got {value[:80]!r})"
        )
    return value


# The rules of ``_key`` as one JSON Schema pattern, for the OpenAPI document: segments
# between '/' of the allowed characters, none of them exactly '..', the first not empty.
_SEG = r"(?:[A-Za-z0-9_\- :][A-Za-z0-9_\-. :]*|\.(?:[A-Za-z0-9_\- :][A-Za-z0-9_\-. :]*)?|\.\.[A-Za-z0-9_\-. :]+)"
KEY_PATTERN = rf"^{_SEG}(?:/{_SEG}?)*$"

Key = Annotated[
    str,
    AfterValidator(_key),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_KEY, "pattern": KEY_PATTERN}
    ),
]
# Points of a thinned series: a chart a few thousand pixels wide at most.
MAX_SERIES_POINTS = 10_000

# An existing run: its id or a unique prefix of it (``tracking._lookup.find_run``).
RunId = Annotated[
    str,
    AfterValidator(_run_id),
    WithJsonSchema({"type": "string", "pattern": rf"^[0-9a-f]{{{MIN_RUN_PREFIX},32}}$"}),
]
# The whole id of a run being created.
NewRunId = Annotated[
    str,
    AfterValidator(_new_run_id),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9a-f]{32}$"}),
]
ParamValue = Annotated[str, Field(max_length=MAX_PARAM_VALUE)]
TagValue = Annotated[str, Field(max_length=MAX_PARAM_VALUE)]


class _Floats(Request):
    # JSON has no NaN or infinity; they travel as the strings "NaN", "Infinity", "-Infinity".
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")


class StartRun(Idempotent):
    workspace: Name
    environment: Name
    experiment: Name
    name: str = Field(default="", max_length=200)
    parent_id: RunId | None = None
    tags: dict[Key, TagValue] = Field(default_factory=dict)
    snapshot: dict[str, Any] = Field(
        default_factory=dict, description="Environment snapshot taken by the client at start."
    )
    run_id: NewRunId | None = Field(
        default=None,
        description="The id of the new run when its client chose it (a pipeline's node run, "
        "named before it starts); default: a new one.",
    )


class MetricBatch(_Floats):
    """Metric points in columns: compact on the wire and fast to validate."""

    keys: list[Key]
    values: list[float]
    steps: list[DbInt64]
    timestamps: list[DbInt64] = Field(description="Milliseconds since the epoch.")

    @model_validator(mode="after")
    def _same_length(self) -> MetricBatch:
        n = len(self.keys)
        for name in ("values", "steps", "timestamps"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"metrics.{name} has {len(getattr(self, name))} items, keys has {n}"
                )
        return self


class LogBatch(Idempotent):
    run_id: RunId
    metrics: MetricBatch | None = None
    params: dict[Key, ParamValue] = Field(default_factory=dict)
    tags: dict[Key, TagValue] = Field(default_factory=dict)


class LogBatchResult(BaseModel):
    metrics: int
    params: int
    tags: int


class EndRun(Request):
    run_id: RunId
    status: Literal["finished", "failed", "killed"] = "finished"
    error: str = Field(default="", max_length=20_000)


class RunRef(Request):
    run_id: RunId


class CompareRuns(Request):
    run_ids: list[RunId] = Field(max_length=1000, description="Two or more runs.")


class RunComparison(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="strings")

    run_ids: list[str]
    params: dict[str, list[str | None]]
    metrics: dict[str, list[float | None]]
    same_params: dict[str, str]
    same_metrics: dict[str, float]


class MetricHistoryRequest(Request):
    run_id: RunId
    key: Key
    max_points: int | None = Field(
        default=None,
        ge=2,
        le=MAX_SERIES_POINTS,
        description="Thin the series to at most this many points, for a chart: the steps "
        "fall into buckets of equal width, and each bucket answers its smallest and its "
        "largest value, so that a spike survives however long the series. Every point when "
        "omitted.",
    )


class MetricHistory(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="strings")

    key: str
    values: list[float]
    steps: list[int]
    timestamps: list[int]
    total: int | None = Field(
        default=None,
        description="How many points are stored: more than the answer holds when "
        "`max_points` thinned it.",
    )


class ArtifactFile(Request):
    path: Key
    digest: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    size: ByteSize


class LogArtifacts(Idempotent):
    run_id: RunId
    artifacts: list[ArtifactFile] = Field(min_length=1)


class ExperimentInfo(BaseModel):
    name: str
    workspace: str
    description: str
    created_at: datetime
    created_by: str
    runs: int
    deleted_at: datetime | None = Field(
        default=None, description="When it was deleted (restorable until deleted permanently)."
    )


class ListExperiments(PageParams, Request):
    workspace: Name
    view_type: ViewType = Field(default="active_only", description=_VIEW_TYPE)


class ExperimentRef(Request):
    workspace: Name
    name: Name


class DeleteExperiment(ExperimentRef):
    permanent: bool = Field(
        default=False,
        description="Remove it and its runs for good; only once deleted for the retention.",
    )


class DeleteRun(Request):
    run_id: RunId
    permanent: bool = Field(
        default=False,
        description="Remove the run for good; only once deleted for the retention.",
    )


class Deletion(BaseModel):
    """What a deletion did: soft (restorable) or permanent (rows removed; the objects they
    named are freed by garbage collection)."""

    target: str
    permanent: bool
    runs: list[str] = Field(description="The runs deleted with it (itself included).")
    deleted_at: datetime | None = Field(description="When it was (soft-)deleted.")
    permanent_after: datetime | None = Field(
        default=None, description="When it may be deleted permanently (soft deletion only)."
    )


# Keys of one kind a runs table offers to show.
MAX_COLUMNS = 5_000


class ListRunColumns(Request):
    workspace: Name
    experiment: Name | None = None


class RunColumns(BaseModel):
    """The keys of each kind that the runs have (each list sorted, at most MAX_COLUMNS)."""

    metrics: list[str]
    params: list[str]
    tags: list[str]


class CreateExperiment(Request):
    workspace: Name
    name: Name
    description: str = Field(default="", max_length=10_000)


class RunInfo(Compact):
    shown = ("id", "experiment", "name", "environment", "status")
    model_config = ConfigDict(ser_json_inf_nan="strings")

    id: str
    name: str
    workspace: str
    environment: str
    experiment: str
    status: RunStatus
    created_by: str
    started_at: datetime
    ended_at: datetime | None
    heartbeat_at: datetime | None = Field(
        default=None, description="The last sign of life of the run's process."
    )
    error: str
    parent_id: str | None
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(
        default_factory=dict, description="The latest value of each metric."
    )
    deleted_at: datetime | None = Field(
        default=None, description="When it was deleted (restorable until deleted permanently)."
    )


class RunDetail(RunInfo):
    snapshot: dict[str, Any]
    artifacts: list[ArtifactFile]


class SearchRuns(Request):
    workspace: Name
    experiment: Name | None = None
    environment: Name | None = None
    filter: str = Field(
        default="",
        max_length=5000,
        description="e.g. \"metrics.auc > 0.8 and params.depth = '5' and tags.team = 'x'\"",
    )
    order_by: list[Annotated[str, Field(max_length=MAX_KEY + 20)]] = Field(
        default_factory=list,
        max_length=10,
        description="e.g. ['metrics.auc DESC', 'attributes.started_at']",
    )
    # The page size, named as MLflow names it.
    max_results: int = Field(default=1000, ge=1, le=50_000)
    page_token: str | None = Field(
        default=None,
        max_length=MAX_TOKEN,
        description="The `next_page_token` of the previous page; omit it for the first page.",
    )
    include_children: bool = Field(
        default=True, description="Also return child runs (e.g. pipeline nodes)."
    )
    view_type: ViewType = Field(default="active_only", description=_VIEW_TYPE)
    columns: list[Annotated[str, Field(max_length=MAX_KEY + 20)]] | None = Field(
        default=None,
        max_length=1000,
        description="Only these params, tags and metrics of each run, named as the filter "
        "names them (e.g. ['metrics.auc', 'params.depth']): a table of a few columns over "
        "runs of hundreds reads only those. Every one when omitted.",
    )

    @property
    def limit(self) -> int:
        """The page size, as other lists name it."""
        return self.max_results
