"""The typed results of a drift check: one ``ColumnDrift`` per column, one ``DriftResult`` overall."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["ColumnDrift", "ColumnKind", "ColumnStatus", "DriftResult", "Score", "ScoreKind"]

# Evidently's names for the column types that take part in drift; "text", "datetime" and
# "unknown" columns are reported but not tested (see docs/monitoring.md).
ColumnKind = Literal["numerical", "categorical", "text", "datetime", "unknown"]
ScoreKind = Literal["p_value", "distance"]
# ok: tested. empty: no finite value left on one side (Evidently raises instead). skipped: a
# type that drift does not test (text, datetime, unknown), so it is not in the drift share.
ColumnStatus = Literal["ok", "empty", "skipped"]


@dataclass(frozen=True, slots=True)
class Score:
    """What a method computes: the value compared with the threshold, and the test statistic.

    ``value`` is a p-value for tests (drift when small) and a distance for distances (drift
    when large); ``statistic`` is the underlying statistic (K–S D, chi-square, z, A²), or the
    distance itself.
    """

    value: float
    statistic: float


@dataclass(frozen=True, slots=True)
class ColumnDrift:
    column: str
    kind: ColumnKind
    status: ColumnStatus
    method: str | None = None  # registry name, e.g. "ks"
    method_label: str | None = None  # Evidently's display name, e.g. "K-S p_value"
    score_kind: ScoreKind | None = None
    score: float | None = None  # the p-value or the distance
    statistic: float | None = None
    threshold: float | None = None
    drifted: bool = False
    reference_rows: int = 0  # values left once NaN and ±inf are dropped
    current_rows: int = 0
    reason: str | None = None  # why the column was not tested

    @property
    def p_value(self) -> float | None:
        return self.score if self.score_kind == "p_value" else None

    @property
    def distance(self) -> float | None:
        return self.score if self.score_kind == "distance" else None


@dataclass(frozen=True, slots=True)
class DriftResult:
    """Per-column results and the dataset decision: drift when ``share >= drift_share``.

    Only columns with status ``ok`` count, in the numerator and the denominator.
    """

    columns: dict[str, ColumnDrift]
    drift_share: float
    number_of_columns: int
    number_of_drifted_columns: int
    share: float
    dataset_drift: bool
    reference_rows: int
    current_rows: int
    skipped: tuple[str, ...] = field(default=())

    def __getitem__(self, column: str) -> ColumnDrift:
        return self.columns[column]

    def __iter__(self) -> Iterator[ColumnDrift]:
        return iter(self.columns.values())

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns.values() if c.drifted]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: the columns as a list, in the order they were compared."""
        body = {k: v for k, v in asdict(self).items() if k != "columns"}
        body["skipped"] = list(self.skipped)
        body["columns"] = [asdict(c) for c in self.columns.values()]
        return body

    def to_frame(self) -> Any:
        """One row per column (a pandas DataFrame)."""
        import pandas as pd

        return pd.DataFrame([asdict(c) for c in self.columns.values()])
