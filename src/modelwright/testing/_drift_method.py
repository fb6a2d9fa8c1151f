"""The conformance kit for drift methods: every built-in passes it in CI.

``check_drift_method(method)`` runs, for each column kind the method claims: identical data
does not drift, clearly shifted data drifts, the score and statistic are finite, the result is
deterministic and leaves its inputs alone, an empty side is a clear error, and ``drift()``
reports an all-NaN column as ``"empty"`` without calling the method.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelwright.errors import InvalidInput
from modelwright.monitoring import DriftMethod, Score, drift
from modelwright.monitoring.results import ColumnKind

__all__ = ["DRIFT_METHOD_CHECKS", "check_drift_method"]

Array = np.ndarray[Any, Any]
_KINDS: frozenset[str] = frozenset({"numerical", "categorical"})


def _expect(condition: bool, message: str) -> None:
    # Not `assert`: the kit must also check when Python runs with -O.
    if not condition:
        raise AssertionError(message)


@dataclass(frozen=True)
class _Pair:
    reference: Array
    current: Array


def _samples(kind: str, seed: int) -> tuple[_Pair, _Pair]:
    """``(same, shifted)``: two draws of one distribution, and a clearly different one."""
    rng = np.random.default_rng(seed)
    n_ref, n_cur = 600, 700
    if kind == "numerical":
        reference = rng.normal(0.0, 1.0, n_ref)
        return (
            _Pair(reference, reference.copy()),
            _Pair(reference, rng.normal(1.5, 1.0, n_cur)),
        )
    values = np.array(["a", "b", "c", "d"], dtype=object)
    reference = rng.choice(values, n_ref, p=[0.4, 0.3, 0.2, 0.1])
    return (
        _Pair(reference, reference.copy()),
        _Pair(reference, rng.choice(values, n_cur, p=[0.05, 0.15, 0.3, 0.5])),
    )


def _compute(method: DriftMethod, pair: _Pair, kind: ColumnKind) -> Score:
    return method.compute(pair.reference, pair.current, kind)


def _check_interface(method: DriftMethod, kind: ColumnKind) -> None:
    _expect(isinstance(method, DriftMethod), f"{method!r} does not implement DriftMethod")
    _expect(bool(method.name) and method.name.strip() == method.name, f"bad name {method.name!r}")
    _expect(bool(method.label), f"{method.name}: empty label")
    _expect(method.score_kind in ("p_value", "distance"), f"{method.name}: bad score_kind")
    _expect(
        bool(method.kinds) and set(method.kinds) <= _KINDS,
        f"{method.name}: kinds {sorted(method.kinds)} must be a non-empty subset of {sorted(_KINDS)}",
    )
    threshold = method.default_threshold
    _expect(math.isfinite(threshold), f"{method.name}: default threshold {threshold} not finite")
    if method.score_kind == "p_value":
        _expect(0 < threshold < 1, f"{method.name}: a p-value threshold must be in (0, 1)")


def _check_identical_does_not_drift(method: DriftMethod, kind: ColumnKind) -> None:
    same, _ = _samples(kind, 1)
    score = _compute(method, same, kind)
    _expect(
        not method.detects(score.value, method.default_threshold),
        f"{method.name} ({kind}): identical data drifts (score {score.value})",
    )


def _check_shift_drifts(method: DriftMethod, kind: ColumnKind) -> None:
    _, shifted = _samples(kind, 2)
    score = _compute(method, shifted, kind)
    _expect(
        method.detects(score.value, method.default_threshold),
        f"{method.name} ({kind}): a clear shift does not drift (score {score.value})",
    )


def _check_finite(method: DriftMethod, kind: ColumnKind) -> None:
    for pair in _samples(kind, 3):
        score = _compute(method, pair, kind)
        _expect(isinstance(score, Score), f"{method.name}: compute returned {type(score).__name__}")
        for what, value in (("score", score.value), ("statistic", score.statistic)):
            _expect(
                isinstance(value, float) and math.isfinite(value),
                f"{method.name} ({kind}): {what} {value!r} is not a finite float",
            )
        if method.score_kind == "p_value":
            _expect(
                0.0 <= score.value <= 1.0, f"{method.name}: p-value {score.value} not in [0, 1]"
            )
        else:
            _expect(score.value >= 0.0, f"{method.name}: negative distance {score.value}")


def _check_deterministic_and_pure(method: DriftMethod, kind: ColumnKind) -> None:
    _, shifted = _samples(kind, 4)
    before = (shifted.reference.copy(), shifted.current.copy())
    first = _compute(method, shifted, kind)
    second = _compute(method, _Pair(shifted.reference.copy(), shifted.current.copy()), kind)
    _expect(first == second, f"{method.name} ({kind}): two runs differ: {first} != {second}")
    _expect(
        np.array_equal(before[0], shifted.reference) and np.array_equal(before[1], shifted.current),
        f"{method.name} ({kind}): compute modified its inputs",
    )


def _check_empty_side_is_a_clear_error(method: DriftMethod, kind: ColumnKind) -> None:
    same, _ = _samples(kind, 5)
    for reference, current in (
        (same.reference[:0], same.current),
        (same.reference, same.current[:0]),
    ):
        try:
            method.compute(reference, current, kind)
        except (InvalidInput, ValueError) as exc:
            _expect(bool(str(exc)), f"{method.name}: empty input error has no message")
        except Exception as exc:
            raise AssertionError(
                f"{method.name} ({kind}): an empty side raised {type(exc).__name__} ({exc}); "
                "expected InvalidInput (e.g. modelwright.monitoring.EmptyColumn) or ValueError"
            ) from exc
        else:
            raise AssertionError(f"{method.name} ({kind}): an empty side raised nothing")


def _check_all_nan_column_reported_empty(method: DriftMethod, kind: ColumnKind) -> None:
    same, _ = _samples(kind, 6)
    calls: list[int] = []

    class Counting:
        # Delegates everything, counting compute calls: drift() must not call it here.
        def __getattr__(self, name: str) -> Any:
            return getattr(method, name)

        def compute(self, reference: Array, current: Array, kind: ColumnKind) -> Score:
            calls.append(1)
            return method.compute(reference, current, kind)

    current = (
        np.full(same.current.size, np.nan) if kind == "numerical" else [None] * same.current.size
    )
    result = drift(
        pd.DataFrame({"x": same.reference}),
        pd.DataFrame({"x": pd.Series(current, dtype=float if kind == "numerical" else object)}),
        column_types={"x": kind},
        method=Counting(),
    )
    column = result["x"]
    _expect(column.status == "empty", f"{method.name}: all-NaN column has status {column.status}")
    _expect(not calls, f"{method.name}: drift() called compute on an empty column")


DRIFT_METHOD_CHECKS: tuple[Callable[[DriftMethod, ColumnKind], None], ...] = (
    _check_interface,
    _check_identical_does_not_drift,
    _check_shift_drifts,
    _check_finite,
    _check_deterministic_and_pure,
    _check_empty_side_is_a_clear_error,
    _check_all_nan_column_reported_empty,
)


def check_drift_method(method: DriftMethod) -> None:
    """Run every check for each column kind ``method`` claims; raise ``AssertionError`` naming
    the first that fails."""
    _check_interface(method, "numerical")
    for kind in sorted(method.kinds):
        for check in DRIFT_METHOD_CHECKS:
            check(method, kind)
