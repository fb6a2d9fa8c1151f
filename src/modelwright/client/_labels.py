"""Ground-truth labels in the client: log (from a frame, records or a dataset version), query."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from modelwright.api import labels as ops
from modelwright.client._monitors import MonitorsMixin
from modelwright.errors import InvalidInput
from modelwright.monitors import label_models as lm

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["LabelsMixin", "label_records"]


def label_records(
    frame: pd.DataFrame, *, id_column: str, label_column: str, what: str = "labels"
) -> list[dict[str, Any]]:
    """The rows of ``frame`` as label records; an ``InvalidInput`` naming what is missing."""
    missing = [c for c in (id_column, label_column) if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"{what}: no column {', '.join(map(repr, missing))} (columns: "
            f"{', '.join(map(repr, map(str, frame.columns))) or 'none'})",
            details={"field": what, "missing_columns": missing},
        )
    if len(frame) == 0:
        raise InvalidInput(f"{what}: no row", details={"field": what})
    ids, values = frame[id_column].tolist(), frame[label_column].tolist()
    empty = sum(1 for i, v in zip(ids, values, strict=True) if _missing(i) or _missing(v))
    if empty:
        raise InvalidInput(
            f"{what}: {empty} row(s) without a request id or a label",
            details={"field": what, "rows": empty},
        )
    return [
        {"request_id": str(i), "label": v.item() if hasattr(v, "item") else v}
        for i, v in zip(ids, values, strict=True)
    ]


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


class LabelsMixin(MonitorsMixin):
    """The label methods of ``Client``."""

    def log_labels(
        self,
        monitor: str,
        labels: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
        *,
        dataset: str | None = None,
        id_column: str = "request_id",
        label_column: str = "label",
        workspace: str | None = None,
        environment: str | None = None,
    ) -> lm.LabelsLogged:
        """Store the true outcomes of ``monitor``'s endpoint's captured requests: a frame or
        records with ``id_column`` and ``label_column``, or a dataset version of the
        environment (``dataset="labels@v3"``). A request id sent again keeps its last label.
        More than 100,000 labels are sent in parts, each stored on its own."""
        import pandas as pd

        if (labels is None) == (dataset is None):
            raise InvalidInput(
                "labels: give either labels or a dataset", details={"field": "labels"}
            )
        scope = self._monitor_scope(workspace, environment)
        if dataset is not None:
            frame = self.load_dataset(dataset, **scope, as_="dataframe")  # type: ignore[attr-defined]
            what = f"dataset {dataset}"
        else:
            frame = labels if isinstance(labels, pd.DataFrame) else pd.DataFrame(list(labels or []))
            what = "labels"
        records = label_records(frame, id_column=id_column, label_column=label_column, what=what)
        answer: lm.LabelsLogged | None = None
        for i in range(0, len(records), lm.MAX_LABELS):
            part = self.call(
                ops.LOG_LABELS, **scope, name=monitor, labels=records[i : i + lm.MAX_LABELS]
            )
            answer = part if answer is None else _merge(answer, part)
        assert answer is not None  # at least one row
        return answer

    def query_labels(
        self,
        monitor: str,
        *,
        request_ids: Sequence[str] | None = None,
        received_since: datetime | None = None,
        received_until: datetime | None = None,
        limit: int = 10_000,
        workspace: str | None = None,
        environment: str | None = None,
    ) -> list[lm.LabelInfo]:
        """Labels of ``monitor``'s endpoint, oldest received first."""
        return self.call(
            ops.QUERY_LABELS,
            **self._monitor_scope(workspace, environment),
            name=monitor,
            request_ids=None if request_ids is None else list(request_ids),
            received_since=received_since,
            received_until=received_until,
            limit=limit,
        )


def _merge(a: lm.LabelsLogged, b: lm.LabelsLogged) -> lm.LabelsLogged:
    return lm.LabelsLogged(
        monitor=a.monitor,
        received=a.received + b.received,
        stored=a.stored + b.stored,
        replaced=a.replaced + b.replaced,
        unknown=a.unknown + b.unknown,
        unknown_examples=(a.unknown_examples + b.unknown_examples)[:10],
    )
