"""Operations of ground-truth labels of a monitor's endpoint: log, query."""

from __future__ import annotations

from modelwright.api.monitors import _ONE
from modelwright.api.operation import Operation
from modelwright.monitors import label_models as lm

LOG_LABELS = Operation(
    "log_labels",
    "POST",
    f"{_ONE}/labels",
    lm.LogLabels,
    lm.LabelsLogged,
    "modelwright.monitors.labels:log_labels",
    "Store true outcomes of captured requests, keyed by request id (a label sent again "
    "replaces the one stored)",
    "monitors",
    idempotent=True,
)
QUERY_LABELS = Operation(
    "query_labels",
    "POST",
    f"{_ONE}/labels/query",
    lm.QueryLabels,
    list[lm.LabelInfo],
    "modelwright.monitors.labels:query_labels",
    "Labels of the monitor's endpoint, by request id or by when they were received",
    "monitors",
    idempotent=True,
    reads_only=True,
)

OPERATIONS: tuple[Operation, ...] = (LOG_LABELS, QUERY_LABELS)  # type: ignore[type-arg]
