"""Schema and statistical profile of a table: the baseline monitoring compares against.

Per column: how many values are present and missing, and by kind
- numeric: min, max, mean, sample std (ddof=1), quantiles (linear, as pandas), a histogram
  of ``HISTOGRAM_BINS`` equal-width bins over the finite values (``numpy.histogram``);
- categorical (strings, booleans, categories): distinct count and the ``TOP_VALUES`` most
  frequent values with their counts;
- datetime: min and max (ISO 8601).
Statistics come from pandas and numpy, one column at a time, so a wide table is never
converted to pandas as a whole.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from modelwright.data.models import ColumnProfile, ColumnSchema, DatasetProfile, Histogram

__all__ = ["HISTOGRAM_BINS", "QUANTILES", "TOP_VALUES", "profile_table", "schema_of", "type_name"]

QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
HISTOGRAM_BINS = 20
TOP_VALUES = 100


def type_name(t: pa.DataType) -> str:
    if pa.types.is_dictionary(t):
        return f"category<{type_name(t.value_type)}>"
    if pa.types.is_large_string(t) or str(t) == "string_view":
        return "string"
    if pa.types.is_large_binary(t):
        return "binary"
    return str(t)


def schema_of(schema: pa.Schema) -> list[ColumnSchema]:
    return [ColumnSchema(name=f.name, type=type_name(f.type)) for f in schema]


def profile_table(table: pa.Table) -> DatasetProfile:
    columns = {
        field.name: _column(table.column(i), field.type) for i, field in enumerate(table.schema)
    }
    return DatasetProfile(rows=table.num_rows, columns=columns)


def _column(col: pa.ChunkedArray, t: pa.DataType) -> ColumnProfile:
    name = type_name(t)
    value_type = t.value_type if pa.types.is_dictionary(t) else t
    if pa.types.is_null(t):
        return ColumnProfile(kind="empty", type=name, count=0, missing=len(col), distinct=0)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return _numeric(col, t, name)
    if (
        pa.types.is_boolean(value_type)
        or pa.types.is_string(value_type)
        or pa.types.is_large_string(value_type)
        or pa.types.is_dictionary(t)
    ):
        return _categorical(col, name, boolean=pa.types.is_boolean(value_type))
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return _datetime(col, name)
    return ColumnProfile(
        kind="other", type=name, count=len(col) - col.null_count, missing=col.null_count
    )


def _numeric(col: pa.ChunkedArray, t: pa.DataType, name: str) -> ColumnProfile:
    if pa.types.is_decimal(t):
        col = col.cast(pa.float64())
    series = col.to_pandas()
    floats = series.astype("float64")
    missing = int(floats.isna().sum())
    finite = floats[np.isfinite(floats.to_numpy())]
    profile = ColumnProfile(
        kind="numeric",
        type=name,
        count=int(floats.count()),
        missing=missing,
        distinct=int(series.nunique()),
        infinite=len(floats) - missing - len(finite),
    )
    if finite.empty:
        return profile
    if pa.types.is_integer(t):
        # Exact, also beyond 2**53 where float64 rounds.
        profile.min, profile.max = int(series.min()), int(series.max())
    else:
        profile.min, profile.max = float(finite.min()), float(finite.max())
    profile.mean = _finite(finite.mean())
    profile.std = _finite(finite.std()) if len(finite) > 1 else None
    q = finite.quantile(list(QUANTILES))
    profile.quantiles = {f"{p:g}": float(v) for p, v in zip(QUANTILES, q.to_numpy(), strict=True)}
    counts, edges = np.histogram(finite.to_numpy(), bins=HISTOGRAM_BINS)
    profile.histogram = Histogram(edges=edges.tolist(), counts=counts.tolist())
    return profile


def _finite(value: Any) -> float | None:
    f = float(value)
    return f if math.isfinite(f) else None  # a mean of huge values can overflow


def _categorical(col: pa.ChunkedArray, name: str, *, boolean: bool) -> ColumnProfile:
    series = col.to_pandas()
    missing = int(series.isna().sum())
    counts = series.value_counts(dropna=True)
    counts = counts[counts > 0]  # a categorical dtype lists unused categories too
    # Most frequent first; ties in value order, so the same data gives the same profile.
    frame = pd.DataFrame({"value": counts.index.astype(str), "n": counts.to_numpy()})
    if boolean:
        frame["value"] = frame["value"].str.lower()
    frame = frame.sort_values(["n", "value"], ascending=[False, True], kind="stable")
    top = frame.head(TOP_VALUES)
    present = len(series) - missing
    return ColumnProfile(
        kind="categorical",
        type=name,
        count=present,
        missing=missing,
        distinct=len(frame),
        value_counts={str(v): int(n) for v, n in zip(top["value"], top["n"], strict=True)},
        other=present - int(top["n"].sum()),
    )


def _datetime(col: pa.ChunkedArray, name: str) -> ColumnProfile:
    series = pd.Series(col.to_pandas(date_as_object=False))
    missing = int(series.isna().sum())
    present = series.dropna()
    profile = ColumnProfile(
        kind="datetime",
        type=name,
        count=len(present),
        missing=missing,
        distinct=int(present.nunique()),
    )
    if not present.empty:
        profile.min, profile.max = present.min().isoformat(), present.max().isoformat()
    return profile
