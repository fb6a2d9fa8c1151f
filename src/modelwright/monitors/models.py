"""Requests and responses of the monitor operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from cronsim import CronSim, CronSimError
from pydantic import BaseModel, Field, field_validator

from modelwright.core.context import utcnow
from modelwright.core.models import Request
from modelwright.core.names import Name

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SIGNALS",
    "CreateMonitor",
    "ListMonitors",
    "MonitorDetail",
    "MonitorHistory",
    "MonitorInfo",
    "MonitorRef",
    "MonitorResult",
    "MonitorRun",
    "Signal",
    "Status",
    "ThresholdKey",
]

Signal = Literal["drift", "quality", "service"]
SIGNALS: tuple[Signal, ...] = ("drift", "quality", "service")
Status = Literal["ok", "alert", "no_data", "error"]
ThresholdKey = Literal[
    "drift",
    "drift_share",
    "missing_share",
    "out_of_range_share",
    "unseen_share",
    "type_mismatch_share",
    "min_rows",
    "error_rate",
    "p50_ms",
    "p99_ms",
]
# A value above its threshold is an alert (min_rows: below). "drift" is the per-feature
# threshold handed to the drift test (default: the test's own, as Evidently's).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "drift_share": 0.5,
    "missing_share": 0.05,
    "out_of_range_share": 0.05,
    "unseen_share": 0.05,
    "type_mismatch_share": 0.0,
    "min_rows": 1.0,
    "error_rate": 0.05,
}
WindowSeconds = Annotated[int, Field(ge=60, le=90 * 86_400)]
ThresholdValue = Annotated[float, Field(ge=0.0, le=1e12, allow_inf_nan=False)]


class CreateMonitor(Request):
    workspace: Name
    environment: Name
    name: Name
    endpoint: Name
    baseline: str = Field(
        max_length=140,
        pattern=r"^[A-Za-z0-9._-]+(@(latest|v?[1-9][0-9]{0,8}))?$",
        description="The baseline dataset version of the environment: name@v2 (pinned).",
    )
    window_seconds: WindowSeconds = Field(
        default=3600, description="Each evaluation reads the traffic of this many seconds."
    )
    schedule: str | None = Field(
        default=None,
        max_length=100,
        description="A cron expression ('*/5 * * * *', UTC); none: evaluated on demand only.",
    )
    signals: list[Signal] = Field(default_factory=lambda: list(SIGNALS), min_length=1)
    thresholds: dict[ThresholdKey, ThresholdValue] = Field(
        default_factory=dict, description="Overrides of the default thresholds."
    )
    description: str = Field(default="", max_length=2000)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            next(CronSim(value, utcnow()))
        except (CronSimError, StopIteration) as exc:
            raise ValueError(f"not a cron expression ({exc}): {value!r}") from None
        return value

    @field_validator("signals")
    @classmethod
    def _unique(cls, value: list[Signal]) -> list[Signal]:
        return list(dict.fromkeys(value))


class MonitorRef(Request):
    workspace: Name
    environment: Name
    name: Name


class ListMonitors(Request):
    workspace: Name | None = None
    environment: Name | None = None
    endpoint: Name | None = None
    limit: int = Field(default=100, ge=1, le=10_000)


class MonitorHistory(MonitorRef):
    signal: Signal | None = None
    metric: Name | None = None
    feature: str | None = Field(default=None, max_length=200)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=1000, ge=1, le=100_000)


class MonitorResult(BaseModel):
    evaluated_at: datetime
    window_start: datetime
    window_end: datetime
    signal: str
    metric: str
    feature: str | None
    value: float | None
    threshold: float | None
    status: Status
    detail: str
    job_id: int | None


class MonitorInfo(BaseModel):
    id: int
    workspace: str
    environment: str
    name: str
    endpoint: str
    baseline: str = Field(description="name@vN of the baseline dataset version.")
    window_seconds: int
    schedule: str | None
    signals: list[Signal]
    thresholds: dict[str, float] = Field(description="Every threshold in force.")
    description: str
    created_by: str
    created_at: datetime
    last_evaluated_at: datetime | None
    status: Status | None = Field(description="The worst status of the latest evaluation.")


class MonitorDetail(MonitorInfo):
    latest: list[MonitorResult] = Field(description="The latest evaluation's values.")


class MonitorRun(BaseModel):
    monitor: str
    job_id: int
