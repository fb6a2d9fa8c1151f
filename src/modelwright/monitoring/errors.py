"""Errors of the drift library: each is an ``InvalidInput``, so the REST server renders it as 400."""

from __future__ import annotations

from collections.abc import Sequence

from modelwright.errors import InvalidInput

__all__ = [
    "ColumnsMissing",
    "DriftInputError",
    "EmptyColumn",
    "EmptyData",
    "UnknownDriftMethod",
    "UnsupportedColumn",
]


class DriftInputError(InvalidInput):
    """The data given to a drift check cannot be compared as it is."""

    code = "drift_input"


class EmptyData(DriftInputError):
    """The reference or current data has no rows (or no columns to compare)."""

    def __init__(self, side: str, what: str = "no rows") -> None:
        super().__init__(
            f"the {side} data has {what}: drift needs rows on both sides", details={"side": side}
        )


class ColumnsMissing(DriftInputError):
    """A compared column is absent from one side; ``details`` list them per side."""

    def __init__(self, *, from_current: Sequence[str], from_reference: Sequence[str]) -> None:
        parts = []
        if from_current:
            parts.append(f"missing from current: {', '.join(map(repr, from_current))}")
        if from_reference:
            parts.append(f"missing from reference: {', '.join(map(repr, from_reference))}")
        super().__init__(
            "columns to compare are " + "; ".join(parts),
            details={
                "missing_from_current": list(from_current),
                "missing_from_reference": list(from_reference),
            },
        )


class EmptyColumn(DriftInputError):
    """A column has no value left once NaN and ±inf are dropped (raised by methods, not by ``drift``)."""

    def __init__(self, column: str, side: str) -> None:
        super().__init__(
            f"column {column!r} has no finite value in the {side} data once NaN and ±inf are dropped",
            details={"column": column, "side": side},
        )


class UnsupportedColumn(DriftInputError):
    """The column's type does not fit the method asked for (e.g. K–S on strings)."""


class UnknownDriftMethod(DriftInputError):
    """No method of that name is registered (built-in or through the entry point group)."""
