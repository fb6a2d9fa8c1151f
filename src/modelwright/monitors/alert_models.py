"""Requests and responses of the alert rules of monitors, and the conditions they hold."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field, model_validator

from modelwright.core.names import Name
from modelwright.core.pages import MAX_TOKEN, PageParams
from modelwright.monitors.models import PERFORMANCE_METRICS, SIGNALS, MonitorRef, Signal
from modelwright.workspaces.policy import parse_threshold

__all__ = [
    "METRICS",
    "AddAlertRule",
    "AlertEvent",
    "AlertHistory",
    "AlertRuleInfo",
    "AlertRuleRef",
    "Condition",
    "DeliveryInfo",
    "Op",
    "SinkInfo",
    "SinkSpec",
    "State",
    "metrics_help",
    "parse_condition",
]

Op = Literal[">", ">=", "<", "<="]
State = Literal["ok", "firing", "resolved"]
# The metrics each signal's evaluation stores (``monitors.signals``, ``service._service``,
# ``monitors.predictions``, ``monitors.performance``).
METRICS: dict[str, tuple[str, ...]] = {
    "drift": ("drift_share", "drift"),
    "quality": (
        "rows",
        "missing_share",
        "type_mismatch_share",
        "out_of_range_share",
        "unseen_share",
        "schema_mismatch",
    ),
    "service": ("error_rate", "p50_ms", "p99_ms", "throughput"),
    "prediction": ("drift",),
    "performance": ("labelled_share", "unmatched_labels", *PERFORMANCE_METRICS),
}


def metrics_help() -> str:
    """Each signal's metrics, for help texts: ``drift: drift_share, drift; quality: …``."""
    return "; ".join(f"{signal}: {', '.join(names)}" for signal, names in METRICS.items())


# Short names accepted in conditions: ``drift.share >= 0.5``.
_ALIASES = {("drift", "share"): "drift_share"}
_CONDITION = re.compile(r"^\s*([A-Za-z_]\w*)\.([A-Za-z_]\w*)(?:\[([^\]]{1,200})\])?\s*(.*)$")
Bound = Annotated[float, Field(ge=-1e12, le=1e12, allow_inf_nan=False)]
Consecutive = Annotated[int, Field(ge=1, le=1000)]


@dataclass(frozen=True)
class Condition:
    signal: str
    metric: str
    feature: str | None
    op: Op
    threshold: float

    def __str__(self) -> str:
        feature = "" if self.feature is None else f"[{self.feature}]"
        return f"{self.signal}.{self.metric}{feature} {self.op} {self.threshold:g}"


def parse_condition(text: str) -> Condition:
    """``"drift.drift_share >= 0.5"``, ``"quality.missing_share[plan] > 0.1"`` → Condition;
    a ``ValueError`` that says what is wrong."""
    problem = ValueError(
        f"'{text}' is not a condition: write <signal>.<metric>[<feature>] <op> <number> "
        "with op one of >, >=, <, <= (e.g. 'drift.drift_share >= 0.5', 'service.p99_ms > 250')"
    )
    match = _CONDITION.match(text)
    if match is None:
        raise problem
    signal, metric, feature, rest = match.groups()
    try:
        # The comparison is a threshold of promotion gates without its metric name.
        threshold = parse_threshold(f"x {rest}")
    except ValueError:
        raise problem from None
    return check_condition(signal, metric, feature, threshold.op, threshold.bound)


def check_condition(
    signal: str, metric: str, feature: str | None, op: str, threshold: float
) -> Condition:
    if signal not in METRICS:
        raise ValueError(f"unknown signal '{signal}': expected one of {', '.join(SIGNALS)}")
    metric = _ALIASES.get((signal, metric), metric)
    if metric not in METRICS[signal]:
        raise ValueError(
            f"unknown metric '{metric}' of signal {signal}: expected one of "
            f"{', '.join(METRICS[signal])}"
        )
    if op not in (">", ">=", "<", "<="):
        raise ValueError(f"operator '{op}': expected one of >, >=, <, <=")
    return Condition(signal, metric, feature, op, threshold)  # type: ignore[arg-type]


class SinkSpec(BaseModel):
    """Where a rule's notifications go: ``webhook`` (target: an http(s) URL), ``command``
    (target: a shell command, the alert as JSON on its stdin), ``log``, or a plug-in's name."""

    kind: Name
    target: str = Field(default="", max_length=2000)
    format: Literal["json", "slack"] = Field(
        default="json", description="webhook: the alert as JSON, or a Slack-compatible text."
    )


class AddAlertRule(MonitorRef):
    rule: Name
    when: str | None = Field(
        default=None,
        max_length=300,
        description="'<signal>.<metric>[<feature>] <op> <number>', e.g. 'drift.drift_share >= 0.5'; "
        "or give signal, metric, feature, operator and threshold.",
    )
    signal: Signal | None = None
    metric: Name | None = None
    feature: str | None = Field(
        default=None, max_length=200, description="None: any feature (the worst value)."
    )
    operator: Op | None = None
    threshold: Bound | None = None
    consecutive: Consecutive = Field(
        default=1, description="Evaluations in a row the condition must hold before it fires."
    )
    sinks: list[SinkSpec] = Field(min_length=1, max_length=16)
    secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=256,
        description="Webhooks: the HMAC-SHA256 key of the X-Modelwright-Signature header. "
        "Stored, never returned.",
    )
    description: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _condition(self) -> Self:
        self.condition()  # a ValueError names what is wrong; the request is left as given
        return self

    def condition(self) -> Condition:
        parts = (self.signal, self.metric, self.operator, self.threshold)
        if self.when is not None:
            if any(p is not None for p in parts) or self.feature is not None:
                raise ValueError("when: give either a condition or its parts, not both")
            return parse_condition(self.when)
        if any(p is None for p in parts):
            raise ValueError("when: give a condition, or signal, metric, operator and threshold")
        return check_condition(
            str(self.signal),
            str(self.metric),
            self.feature,
            str(self.operator),
            float(self.threshold or 0.0),
        )


class AlertRuleRef(MonitorRef):
    rule: Name


class ListAlertRules(PageParams, MonitorRef):
    pass


class AlertHistory(MonitorRef):
    rule: Name | None = None
    limit: int = Field(default=100, ge=1, le=10_000)
    page_token: str | None = Field(
        default=None,
        max_length=MAX_TOKEN,
        description="The `next_page_token` of the previous page; omit it for the first page.",
    )


class SinkInfo(BaseModel):
    kind: str
    target: str
    format: str


class DeliveryInfo(BaseModel):
    sink: str
    ok: bool
    attempts: int
    detail: str


class AlertRuleInfo(BaseModel):
    monitor: str
    name: str
    condition: str
    signal: str
    metric: str
    feature: str | None
    op: str
    threshold: float
    consecutive: int
    sinks: list[SinkInfo]
    signed: bool = Field(description="Webhook bodies carry an HMAC signature (a secret is set).")
    description: str
    created_by: str
    created_at: datetime
    state: State
    breaches: int = Field(description="Breaching evaluations in a row so far.")
    value: float | None = Field(description="The value of the latest evaluation that had one.")
    since: datetime | None = Field(description="When the rule entered its state.")
    last_evaluated_at: datetime | None


class AlertEvent(BaseModel):
    """A transition: the rule fired, or resolved; with what its sinks answered."""

    id: int
    monitor: str
    rule: str
    condition: str
    state: Literal["firing", "resolved"]
    value: float | None
    threshold: float
    evaluated_at: datetime
    window_start: datetime
    window_end: datetime
    delivered_at: datetime | None = Field(description="None: its sinks have not answered yet.")
    deliveries: list[DeliveryInfo]
