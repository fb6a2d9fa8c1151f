"""``drift()``: column types, the default test per column, and the dataset decision.

The defaults are Evidently 0.7.23's ``DataDriftPreset``: column types inferred from the
*current* data (``evidently.core.datasets.infer_column_type``), the test chosen per column by
``legacy/calculations/stattests/registry._get_default_stattest``, NaN and ±inf dropped first
(``legacy/calculations/data_drift.get_one_column_drift``), dataset drift when the share of
drifted columns is at least 0.5 (``get_dataset_drift``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

import numpy as np
import pandas as pd

from modelwright.monitoring._counts import count_distinct, distinct_values
from modelwright.monitoring._sources import Source, open_source, values_of
from modelwright.monitoring.errors import ColumnsMissing, EmptyData, UnsupportedColumn
from modelwright.monitoring.methods import (
    CHISQUARE,
    JENSENSHANNON,
    KS,
    WASSERSTEIN,
    DriftMethod,
    Z,
    get_method,
)
from modelwright.monitoring.results import ColumnDrift, ColumnKind, DriftResult

__all__ = ["default_method", "drift", "infer_kind"]

MethodSpec = str | DriftMethod
_TESTED: tuple[ColumnKind, ...] = ("numerical", "categorical")
# Evidently: up to 1000 reference rows the p-value tests, above it the distances.
SMALL_REFERENCE = 1000
# Evidently: int columns with at most this many distinct values are categorical.
INTEGER_CARDINALITY_LIMIT = 10


def infer_kind(series: pd.Series) -> ColumnKind:  # noqa: PLR0911 - one return per Evidently branch
    """Evidently's ``infer_column_type`` (dtype names matter: ``uint8`` and ``Int64`` are
    "unknown" there, and so here, unless ``column_types`` says otherwise)."""
    name = series.dtype.name
    if name.startswith("float"):
        return "numerical"
    if name.startswith("int"):
        distinct = count_distinct(series.to_numpy(), INTEGER_CARDINALITY_LIMIT)
        return "categorical" if distinct <= INTEGER_CARDINALITY_LIMIT else "numerical"
    if name in ("string", "str"):
        return _text_or_categorical(series)
    if name == "object":
        present = series.dropna()
        if present.empty:
            return "unknown"
        if isinstance(present.iloc[0], str) and isinstance(present.iloc[-1], str):
            return _text_or_categorical(series)
        return "unknown"  # lists, tuples and mixed objects are not compared
    if name in ("bool", "category"):
        return "categorical"
    if name.startswith("datetime"):
        return "datetime"
    return "unknown"


def _text_or_categorical(series: pd.Series) -> ColumnKind:
    # Evidently: more distinct values than half the non-null count makes free text.
    return "text" if series.nunique() > series.count() * 0.5 else "categorical"


def default_method(
    reference: np.ndarray[Any, Any], current: np.ndarray[Any, Any], kind: ColumnKind
) -> DriftMethod:
    """Evidently's ``_get_default_stattest`` for a cleaned numerical or categorical column."""
    distinct = distinct_values(reference, current, 5)
    if reference.size <= SMALL_REFERENCE:
        if kind == "numerical" and distinct > 5:
            return KS
        return CHISQUARE if distinct > 2 else Z
    if kind == "numerical" and distinct > 5:
        return WASSERSTEIN
    return JENSENSHANNON


def _pick(spec: Any, column: str) -> Any:
    return spec.get(column) if isinstance(spec, Mapping) else spec


def drift(
    reference: Any,
    current: Any,
    column_types: Mapping[str, ColumnKind] | None = None,
    method: MethodSpec | Mapping[str, MethodSpec] | None = None,
    threshold: float | Mapping[str, float] | None = None,
    *,
    columns: list[str] | None = None,
    drift_share: float = 0.5,
) -> DriftResult:
    """Compare ``current`` with ``reference`` column by column.

    Each side is a pandas DataFrame, a pyarrow Table or Dataset, or a path to Parquet data.
    ``column_types`` overrides the inferred type of a column (``"numerical"`` or
    ``"categorical"``; others are not tested). ``method`` is a method or a registered name, for
    every column or per column (a mapping; unlisted columns get the default); ``threshold``
    likewise, else the method's default. With neither, the result is Evidently's
    ``DataDriftPreset``'s. Columns default to all of them: a column missing from either side is
    an error (``ColumnsMissing``), as is a side with no rows (``EmptyData``). A column left with
    no value once NaN and ±inf are dropped is reported with status ``"empty"``.
    """
    ref = open_source(reference, "reference")
    cur = open_source(current, "current")
    names = _columns(ref, cur, columns)
    for side in (ref, cur):
        if side.num_rows == 0:
            raise EmptyData(side.side)
    if not names:
        raise EmptyData("current", "no columns")
    types = dict(column_types or {})
    for column, kind in types.items():
        if kind not in get_args(ColumnKind):
            raise UnsupportedColumn(
                f"column_types[{column!r}] is {kind!r}; expected one of {', '.join(get_args(ColumnKind))}"
            )
    results = {
        name: _one_column(
            ref,
            cur,
            name,
            kind=types.get(name),
            spec=_pick(method, name),
            threshold=_pick(threshold, name),
        )
        for name in names
    }
    tested = [r for r in results.values() if r.status == "ok"]
    drifted = sum(r.drifted for r in tested)
    share = drifted / len(tested) if tested else 0.0
    return DriftResult(
        columns=results,
        drift_share=drift_share,
        number_of_columns=len(tested),
        number_of_drifted_columns=drifted,
        share=share,
        dataset_drift=bool(tested) and share >= drift_share,
        reference_rows=ref.num_rows,
        current_rows=cur.num_rows,
        skipped=tuple(r.column for r in results.values() if r.status != "ok"),
    )


def _columns(ref: Source, cur: Source, columns: list[str] | None) -> list[str]:
    wanted = (
        list(columns) if columns is not None else list(dict.fromkeys([*ref.columns, *cur.columns]))
    )
    in_ref, in_cur = set(ref.columns), set(cur.columns)
    missing_cur = [c for c in wanted if c not in in_cur]
    missing_ref = [c for c in wanted if c not in in_ref]
    if missing_cur or missing_ref:
        raise ColumnsMissing(from_current=missing_cur, from_reference=missing_ref)
    return wanted


def _one_column(
    ref: Source,
    cur: Source,
    name: str,
    *,
    kind: ColumnKind | None,
    spec: MethodSpec | None,
    threshold: float | None,
) -> ColumnDrift:
    current_series = cur.series(name)
    kind = kind or infer_kind(current_series)
    if kind not in _TESTED:
        return ColumnDrift(name, kind, "skipped", reason=f"{kind} columns are not tested for drift")
    cur_values = values_of(current_series)
    del current_series  # a Parquet column read for this check is freed before the next
    ref_values = values_of(ref.series(name))
    if ref_values.size == 0 or cur_values.size == 0:
        side = "reference" if ref_values.size == 0 else "current"
        return ColumnDrift(
            name, kind, "empty",
            reference_rows=ref_values.size, current_rows=cur_values.size,
            reason=f"no value left in the {side} data once NaN and ±inf are dropped",
        )  # fmt: skip
    if kind == "numerical":
        for side, values in (("reference", ref_values), ("current", cur_values)):
            if values.dtype.kind not in "iufb":
                raise UnsupportedColumn(
                    f"column {name!r} is numerical but holds {values.dtype} values in the {side} data",
                    details={"column": name, "side": side},
                )
    chosen = default_method(ref_values, cur_values, kind) if spec is None else _resolve(spec)
    if spec is not None and kind not in chosen.kinds:
        raise UnsupportedColumn(
            f"drift method {chosen.name!r} does not apply to {kind} column {name!r}",
            details={"column": name, "method": chosen.name},
        )
    score = chosen.compute(ref_values, cur_values, kind)
    limit = chosen.default_threshold if threshold is None else threshold
    return ColumnDrift(
        column=name,
        kind=kind,
        status="ok",
        method=chosen.name,
        method_label=chosen.label,
        score_kind=chosen.score_kind,
        score=score.value,
        statistic=score.statistic,
        threshold=limit,
        drifted=chosen.detects(score.value, limit),
        reference_rows=ref_values.size,
        current_rows=cur_values.size,
    )


def _resolve(spec: MethodSpec) -> DriftMethod:
    return get_method(spec) if isinstance(spec, str) else spec
