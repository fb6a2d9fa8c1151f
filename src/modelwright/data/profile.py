"""Schema and statistical profile of a table: the baseline monitoring compares against.

Per column: how many values are present and missing, and by kind
- numeric: min, max, mean, sample std (ddof=1), quantiles (linear, as pandas), a histogram
  of ``HISTOGRAM_BINS`` equal-width bins over the finite values (``numpy.histogram``);
- categorical (strings, booleans, categories): distinct count and the ``TOP_VALUES`` most
  frequent values with their counts;
- datetime: min and max (ISO 8601).
Statistics come from numpy and pandas (Arrow counts strings and booleans, a chunk at a
time), one column at a time, so a wide table is never converted to pandas as a whole and a
large one can be read a column at a time (``profile_columns``). Up to ``EXACT_ROWS`` rows
every figure is exact and the same as pandas gives: what varies with the data is only how
numeric columns are summarised (see ``_summary``). Above it, a column is read a batch at a
time and never held whole; quantiles, and distinct and value counts of many distinct values,
come from sketches, and the column's ``approximate`` names them (see ``_sketched``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from modelwright.data._sketched import EXACT_ROWS, Counts, sketched_column
from modelwright.data._summary import HISTOGRAM_BINS, QUANTILES, Values, summarize
from modelwright.data.models import ColumnProfile, ColumnSchema, DatasetProfile, Histogram

__all__ = [
    "EXACT_ROWS",
    "HISTOGRAM_BINS",
    "QUANTILES",
    "TOP_VALUES",
    "profile_columns",
    "profile_table",
    "schema_of",
    "type_name",
]

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
    return profile_columns(table.schema, table.num_rows, lambda i: iter(table.column(i).chunks))


def profile_columns(
    schema: pa.Schema, rows: int, chunks: Callable[[int], Iterator[pa.Array]]
) -> DatasetProfile:
    """The profile of a table whose columns are read one at a time, a chunk at a time, by
    ``chunks(i)``: at most the column being summarised is in memory, and of strings and
    booleans, only their counts. Above ``EXACT_ROWS`` rows, not even a column: figures that
    need one whole come from sketches (``_sketched``)."""
    columns = {}
    sketched = rows > EXACT_ROWS
    for i, field in enumerate(schema):
        t = field.type
        if pa.types.is_boolean(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
            columns[field.name] = _counted_in_arrow(chunks(i), t, bounded=sketched)
            continue
        if sketched:
            column = sketched_column(partial(chunks, i), t, type_name(t))
            if column is None and _string_categories(t):
                decoded = (c.dictionary_decode() for c in chunks(i))
                column = _counted_in_arrow(decoded, t.value_type, name=type_name(t), bounded=True)
            if column is not None:
                columns[field.name] = column
                continue
        columns[field.name] = _column(pa.chunked_array(list(chunks(i)), t), t)
    return DatasetProfile(rows=rows, columns=columns)


def _string_categories(t: pa.DataType) -> bool:
    return bool(
        pa.types.is_dictionary(t)
        and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type))
    )


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
    present = col.drop_null() if col.null_count else col
    # The present values as NumPy views of Arrow's arrays, integers kept as integers (exact
    # beyond 2**53).
    parts = [chunk.to_numpy(zero_copy_only=False) for chunk in present.chunks]
    if pa.types.is_floating(t):
        parts = [_without_nan(p) for p in parts]  # NaN is missing, as in pandas
    dtype = parts[0].dtype if parts else np.dtype(t.to_pandas_dtype())
    values = Values(parts, dtype)
    summary = summarize(values)
    profile = ColumnProfile(
        kind="numeric",
        type=name,
        count=values.n,
        missing=len(col) - values.n,
        distinct=summary.distinct,
        infinite=summary.infinite,
    )
    if summary.finite == 0:
        return profile
    lo, hi = summary.lo, summary.hi
    integer = pa.types.is_integer(t)
    profile.min, profile.max = (int(lo), int(hi)) if integer else (float(lo), float(hi))
    profile.mean = _finite(summary.mean)
    profile.std = _finite(summary.std) if summary.finite > 1 else None
    profile.quantiles = {
        f"{p:g}": float(v) for p, v in zip(QUANTILES, summary.quantiles, strict=True)
    }
    if summary.histogram is not None:
        edges, counts = summary.histogram
        profile.histogram = Histogram(edges=edges.tolist(), counts=counts.tolist())
    return profile


def _without_nan(values: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    # A sum that is not NaN shows there is none, without a mask as long as the values.
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf, a sum past 1e308
        if not math.isnan(np.add.reduce(values)):
            return values
    present: np.ndarray[Any, Any] = values[~np.isnan(values)]
    return present


def _finite(value: Any) -> float | None:
    f = float(value)
    return f if math.isfinite(f) else None  # a mean of huge values can overflow


def _categorical(col: pa.ChunkedArray, name: str, *, boolean: bool) -> ColumnProfile:
    if col.null_count == len(col):  # e.g. the error column of a batch job that had none
        return ColumnProfile(
            kind="categorical",
            type=name,
            count=0,
            missing=len(col),
            distinct=0,
            value_counts={},
            other=0,
        )
    if not pa.types.is_dictionary(col.type):
        return _counted_in_arrow(iter(col.chunks), col.type)
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


def _counted_in_arrow(
    chunks: Iterator[pa.Array], t: pa.DataType, *, name: str | None = None, bounded: bool = False
) -> ColumnProfile:
    """Strings and booleans counted and ranked by Arrow, a chunk at a time: memory for the
    distinct values only (pandas first made a copy of the column), and only the top values
    become Python objects. The same figures and order as counting in pandas (UTF-8 byte
    order is the order of code points; false before true). ``bounded``: past
    ``EXACT_DISTINCT`` distinct values, sketched (``Counts``)."""
    length = nulls = 0
    counts = Counts(t, bounded=bounded)
    for chunk in chunks:
        length += len(chunk)
        nulls += chunk.null_count
        counts.add(chunk)
    distinct, top = counts.result(TOP_VALUES)
    present = length - nulls
    return ColumnProfile(
        kind="categorical",
        type=name or type_name(t),
        count=present,
        missing=nulls,
        distinct=distinct,
        value_counts=dict(top),
        other=present - sum(n for _, n in top),
        approximate=["distinct", "other", "value_counts"] if counts.approximate else None,
    )


def _datetime(col: pa.ChunkedArray, name: str) -> ColumnProfile:
    missing = col.null_count
    present = col.drop_null() if missing else col
    profile = ColumnProfile(
        kind="datetime", type=name, count=len(present), missing=missing, distinct=0
    )
    if not len(present):
        return profile
    # Distinct instants counted on their integer storage (sorted, counted or sorted copy, as
    # numbers are): a hash table of a column of distinct timestamps is several times its size.
    width = pa.int32() if pa.types.is_date32(col.type) else pa.int64()
    stored = present.cast(width)
    parts = [chunk.to_numpy(zero_copy_only=False) for chunk in stored.chunks]
    profile.distinct = summarize(Values(parts, np.dtype(width.to_pandas_dtype()))).distinct
    # The ends as pandas writes them: only these two values are converted.
    ends = pc.min_max(present)
    both = pa.chunked_array([pa.array([ends["min"], ends["max"]], col.type)])
    lo, hi = pd.Series(both.to_pandas(date_as_object=False))
    profile.min, profile.max = lo.isoformat(), hi.isoformat()
    return profile
