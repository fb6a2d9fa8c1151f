"""Request and response of a monitor's report (kept apart from ``report``, which draws it:
declaring the operation must not import pandas)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from modelwright.monitors.alert_models import AlertEvent, AlertRuleInfo
from modelwright.monitors.models import MonitorDetail, MonitorRef, MonitorResult, WindowSeconds

__all__ = ["SAMPLE_ROWS", "Histogram", "MonitorReport", "MonitorReportRequest"]

# At most this many rows of each side are drawn into the histograms (a random sample).
SAMPLE_ROWS = 100_000


class MonitorReportRequest(MonitorRef):
    window_seconds: WindowSeconds | None = Field(
        default=None, description="The traffic before until (default: the monitor's window)."
    )
    since: datetime | None = Field(default=None, description="Start (UTC when no offset).")
    until: datetime | None = Field(default=None, description="End (default: now).")


class Histogram(BaseModel):
    feature: str
    kind: str  # numeric | categorical
    labels: list[str]
    reference: list[float]  # shares of the reference rows per bin
    current: list[float]


class MonitorReport(BaseModel):
    monitor: MonitorDetail
    since: str
    until: str
    histograms: list[Histogram]
    history: list[MonitorResult]
    rules: list[AlertRuleInfo]
    transitions: list[AlertEvent]
    reference_rows: int = Field(default=0, description="Baseline rows drawn in the histograms.")
    current_rows: int = Field(default=0, description="Captured rows drawn in the histograms.")
    notes: list[str] = Field(
        default_factory=list, description="Samples taken, data left out and why."
    )
