"""The drift method contract (a Protocol) and the base the built-ins share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from modelwright.monitoring.errors import EmptyColumn
from modelwright.monitoring.results import ColumnKind, Score, ScoreKind

__all__ = ["Array", "BaseMethod", "Distance", "DriftMethod", "PValueTest", "require_values"]

Array = np.ndarray[Any, Any]


@runtime_checkable
class DriftMethod(Protocol):
    """A way to compare one column of reference data with the same column of current data.

    ``compute`` receives the two sides with NaN and ±inf already dropped, both non-empty:
    numeric numpy arrays for ``numerical`` columns; for ``categorical`` columns whatever the
    values are (numbers, booleans, or an object array of strings). It must not modify them.
    ``detects(score, threshold)`` says whether the score means drift: for a p-value that is
    "small", for a distance "large"; the direction (and whether equality counts) is the
    method's. Register one with ``register_method``, or from a package through the entry point
    group ``modelwright.drift_methods``; ``modelwright.testing.check_drift_method`` checks it.
    """

    @property
    def name(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def kinds(self) -> frozenset[ColumnKind]: ...

    @property
    def default_threshold(self) -> float: ...

    @property
    def score_kind(self) -> ScoreKind: ...

    def compute(self, reference: Array, current: Array, kind: ColumnKind) -> Score: ...

    def detects(self, score: float, threshold: float) -> bool: ...


_BOTH: frozenset[ColumnKind] = frozenset({"numerical", "categorical"})


@dataclass(frozen=True)
class BaseMethod:
    """Name, label, kinds, default threshold and comparison direction of a built-in method.

    ``inclusive`` makes a p-value equal to the threshold count as drift (Evidently's K–S
    uses ``p <= threshold``; its other tests ``p < threshold``). Distances drift at
    ``distance >= threshold``.
    """

    name: str
    label: str
    default_threshold: float
    score_kind: ScoreKind
    kinds: frozenset[ColumnKind] = _BOTH
    inclusive: bool = False

    def compute(self, reference: Array, current: Array, kind: ColumnKind) -> Score:
        raise NotImplementedError

    def detects(self, score: float, threshold: float) -> bool:
        if self.score_kind == "distance":
            return bool(score >= threshold)
        return bool(score <= threshold) if self.inclusive else bool(score < threshold)


@dataclass(frozen=True)
class Distance(BaseMethod):
    """A built-in whose score is a distance: drift at ``distance >= 0.1`` by default."""

    default_threshold: float = 0.1
    score_kind: ScoreKind = "distance"


@dataclass(frozen=True)
class PValueTest(BaseMethod):
    """A built-in statistical test whose score is a p-value: drift at ``p < 0.05`` by default."""

    default_threshold: float = 0.05
    score_kind: ScoreKind = "p_value"


def require_values(reference: Array, current: Array, column: str = "<values>") -> None:
    """Raise ``EmptyColumn`` when a side is empty (``drift`` never calls a method so; a direct
    call gets a clear error rather than scipy's)."""
    for side, values in (("reference", reference), ("current", current)):
        if values.size == 0:
            raise EmptyColumn(column, side)
