"""Requests and responses of the monitor operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from cronsim import CronSim, CronSimError
from pydantic import BaseModel, Field, field_validator, model_validator

from modelwright.core.clock import utcnow
from modelwright.core.models import Request
from modelwright.core.names import Name
from modelwright.core.pages import MAX_TOKEN, PageParams

__all__ = [
    "DEFAULT_SERIES_SIGNALS",
    "DEFAULT_SIGNALS",
    "DEFAULT_THRESHOLDS",
    "PERFORMANCE_METRICS",
    "SERIES_SIGNALS",
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
    "Task",
    "ThresholdKey",
]

Signal = Literal["drift", "prediction", "quality", "performance", "service"]
SIGNALS: tuple[Signal, ...] = ("drift", "prediction", "quality", "performance", "service")
# Signals created without ``signals``: the model signals need labels or a loadable model.
DEFAULT_SIGNALS: tuple[Signal, ...] = ("drift", "quality", "service")
# A dataset series has no traffic: no serving statistics, no request ids to join labels on.
SERIES_SIGNALS: tuple[Signal, ...] = ("drift", "quality", "prediction")
DEFAULT_SERIES_SIGNALS: tuple[Signal, ...] = ("drift", "quality")
Task = Literal["classification", "regression"]
# Per metric of the performance signal: True when a higher value is better, so a value
# below its threshold alerts (the others alert above theirs).
PERFORMANCE_METRICS: dict[str, bool] = {
    "accuracy": True,
    "precision": True,
    "recall": True,
    "f1": True,
    "roc_auc": True,
    "log_loss": False,
    "mae": False,
    "rmse": False,
    "r2": True,
    "mape": False,
}
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
    "prediction_drift",
    "labelled_share",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "roc_auc",
    "log_loss",
    "mae",
    "rmse",
    "r2",
    "mape",
]
# A value above its threshold is an alert (min_rows, labelled_share and the performance
# metrics where higher is better: below). "drift" and "prediction_drift" are the thresholds
# handed to the drift test (default: the test's own, as Evidently's).
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
Column = Annotated[str, Field(min_length=1, max_length=200)]


class CreateMonitor(Request):
    workspace: Name
    environment: Name
    name: Name
    endpoint: Name | None = Field(
        default=None, description="The endpoint whose captured traffic is watched."
    )
    dataset: Name | None = Field(
        default=None,
        description="Or the dataset series watched: each evaluation reads the versions of "
        "this dataset registered in its window (batch outputs, say).",
    )
    features: list[Column] | None = Field(
        default=None,
        min_length=1,
        max_length=10_000,
        description="dataset: the columns compared with the baseline (default: the "
        "baseline's columns but the prediction and label columns).",
    )
    prediction_column: Column = Field(
        default="prediction", description="dataset: the series' column of predictions."
    )
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
    signals: list[Signal] = Field(default_factory=lambda: list(DEFAULT_SIGNALS), min_length=1)
    thresholds: dict[ThresholdKey, ThresholdValue] = Field(
        default_factory=dict, description="Overrides of the default thresholds."
    )
    description: str = Field(default="", max_length=2000)
    task: Task | None = Field(
        default=None,
        description="performance: classification or regression metrics (default: decided "
        "from the labels, numbers with many distinct values being a regression).",
    )
    baseline_predictions: Literal["model", "label"] = Field(
        default="model",
        description="prediction: the baseline's predictions are the served model's on the "
        "baseline (model), or the baseline's label column (label).",
    )
    label_column: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The baseline's column of true outcomes (needed with "
        "baseline_predictions=label).",
    )

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

    @model_validator(mode="after")
    def _label_column(self) -> Self:
        if self.baseline_predictions == "label" and self.label_column is None:
            raise ValueError("label_column: needed with baseline_predictions=label")
        return self

    @model_validator(mode="after")
    def _watched(self) -> Self:
        if (self.endpoint is None) == (self.dataset is None):
            raise ValueError(
                "endpoint, dataset: give exactly one (an endpoint's captured traffic or a "
                "dataset series)"
            )
        if self.dataset is None:
            if self.features is not None:
                raise ValueError(
                    "features: only for a dataset series (an endpoint's are its model's)"
                )
            return self
        if "signals" not in self.model_fields_set:
            self.signals = list(DEFAULT_SERIES_SIGNALS)
        refused = [s for s in self.signals if s not in SERIES_SIGNALS]
        if refused:
            raise ValueError(
                f"signals: {', '.join(refused)} need(s) an endpoint; a dataset series monitor "
                f"takes {', '.join(SERIES_SIGNALS)}"
            )
        return self

    def options(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "task": self.task,
            "baseline_predictions": self.baseline_predictions,
            "label_column": self.label_column,
        }
        if self.dataset is not None:
            found |= {"features": self.features, "prediction_column": self.prediction_column}
        return found


class MonitorRef(Request):
    workspace: Name
    environment: Name
    name: Name


class ListMonitors(PageParams, Request):
    workspace: Name | None = None
    environment: Name | None = None
    endpoint: Name | None = None
    dataset: Name | None = None
    limit: int = Field(default=100, ge=1, le=10_000)


class MonitorHistory(MonitorRef):
    signal: Signal | None = None
    metric: Name | None = None
    feature: str | None = Field(default=None, max_length=200)
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=1000, ge=1, le=100_000)
    page_token: str | None = Field(
        default=None,
        max_length=MAX_TOKEN,
        description="The `next_page_token` of the previous page; omit it for the first page.",
    )


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
    kind: Literal["endpoint", "series"] = Field(
        default="endpoint", description="What it watches: an endpoint or a dataset series."
    )
    endpoint: str | None = Field(default=None, description="The endpoint watched, if any.")
    dataset: str | None = Field(default=None, description="Or the dataset series watched.")
    baseline: str = Field(description="name@vN of the baseline dataset version.")
    window_seconds: int
    schedule: str | None
    signals: list[Signal]
    thresholds: dict[str, float] = Field(description="Every threshold in force.")
    description: str
    task: Task | None = None
    baseline_predictions: Literal["model", "label"] = "model"
    label_column: str | None = None
    features: list[str] | None = Field(
        default=None, description="dataset: the columns compared (None: the default ones)."
    )
    prediction_column: str | None = Field(
        default=None, description="dataset: the series' column of predictions."
    )
    created_by: str
    created_at: datetime
    last_evaluated_at: datetime | None
    status: Status | None = Field(description="The worst status of the latest evaluation.")


class MonitorDetail(MonitorInfo):
    latest: list[MonitorResult] = Field(description="The latest evaluation's values.")


class MonitorRun(BaseModel):
    monitor: str
    job_id: int
