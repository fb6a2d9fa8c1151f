"""Profiling a large table a batch at a time, in memory that does not grow with its rows.

Above ``EXACT_ROWS`` rows a column is never held whole (``profile`` holds one to sort it):
- numbers: count, missing, infinities, min and max exact; mean and sample std merged batch by
  batch (Chan et al.'s pairwise update); the histogram in a second pass over the column, with
  the edges the first pass's exact min and max give, so its counts are exact too; quantiles
  from a KLL sketch (Apache DataSketches), within its rank error (``KLL_K``);
- distinct counts: exact while there are at most ``EXACT_DISTINCT`` distinct values, then a
  HyperLogLog sketch (``HLL_LG_K``);
- strings and booleans: value counts exact while there are at most ``EXACT_DISTINCT``
  distinct values, then a frequent-items sketch: only values certainly among the most
  frequent are listed, with estimated counts.
Each column's ``approximate`` names the figures that came from a sketch. KLL compacts at
random (the library takes no seed): profiling the same large table twice gives quantiles
that differ within the rank error; a version is profiled once, when it is registered.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import datasketches as ds
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from modelwright.data._summary import QUANTILES, bin_edges
from modelwright.data.models import ColumnProfile, Histogram

__all__ = [
    "EXACT_DISTINCT",
    "EXACT_ROWS",
    "HLL_LG_K",
    "KLL_K",
    "Counts",
    "Distinct",
    "sketched_column",
]

# At most this many rows, every figure is exact (a numeric column and its sorted copy: 16 MB).
EXACT_ROWS = 1_000_000
# Distinct values counted exactly, held in memory, before a sketch takes over.
EXACT_DISTINCT = 100_000
# KLL's k: a normalised rank error of 0.28% (99% confidence), a few tens of KiB.
KLL_K = 1000
# HLL's log2 of its buckets: a relative error of about 0.8% (one standard deviation), 16 KiB.
HLL_LG_K = 14
# A frequent-items sketch of up to 2**12 counters: a count is off by at most 3.5/4096 of the
# values seen (its documented bound), and only values above that are listed.
_FREQUENT_LG_K = 12
_MERGE_EVERY = 64  # chunks' counts merged into one table this often

Array = np.ndarray[Any, Any]
Chunks = Callable[[], Iterator[pa.Array]]


class Distinct:
    """The number of distinct values: exact up to ``EXACT_DISTINCT``, then HLL."""

    def __init__(self) -> None:
        self.seen: Array | None = None
        self.hll: ds.hll_sketch | None = None

    def add(self, values: Array) -> None:
        unique = np.unique(values)
        if self.hll is not None:
            _each(self.hll.update, unique.tolist())
            return
        self.seen = unique if self.seen is None else np.union1d(self.seen, unique)
        if len(self.seen) > EXACT_DISTINCT:
            self.hll = ds.hll_sketch(HLL_LG_K)
            _each(self.hll.update, self.seen.tolist())
            self.seen = None

    @property
    def approximate(self) -> bool:
        return self.hll is not None

    @property
    def count(self) -> int:
        if self.hll is not None:
            return round(float(self.hll.get_estimate()))
        return 0 if self.seen is None else len(self.seen)


class Counts:
    """Counts of the values of string or boolean chunks, each chunk counted by Arrow: exact,
    or when ``bounded`` exact while there are at most ``EXACT_DISTINCT`` distinct values,
    then a frequent-items sketch and HLL."""

    def __init__(self, t: pa.DataType, *, bounded: bool) -> None:
        self.type = t
        self.limit = EXACT_DISTINCT if bounded else None
        self.parts: list[pa.Table] = []
        # Once sketched: the frequent items, and an HLL for the distinct count.
        self.sketches: tuple[ds.frequent_strings_sketch, ds.hll_sketch] | None = None

    def add(self, chunk: pa.Array) -> None:
        counts = pc.value_counts(chunk).flatten()
        part = pa.table({"value": counts[0], "n": counts[1]})
        part = part.filter(pc.is_valid(part.column("value")))
        if self.sketches is not None:
            self._sketch(part, *self.sketches)
            return
        self.parts.append(part)
        held = sum(p.num_rows for p in self.parts)
        if len(self.parts) >= _MERGE_EVERY or (self.limit is not None and held > self.limit):
            self.parts = [_merged(self.parts)]
            if self.limit is not None and self.parts[0].num_rows > self.limit:
                self.sketches = (
                    ds.frequent_strings_sketch(_FREQUENT_LG_K),
                    ds.hll_sketch(HLL_LG_K),
                )
                self._sketch(self.parts[0], *self.sketches)
                self.parts = []

    def _sketch(
        self, part: pa.Table, frequent: ds.frequent_strings_sketch, hll: ds.hll_sketch
    ) -> None:
        values = part.column("value").to_pylist()
        if pa.types.is_boolean(self.type):
            values = [str(v).lower() for v in values]
        _each(frequent.update, values, part.column("n").to_pylist())
        _each(hll.update, values)

    @property
    def approximate(self) -> bool:
        return self.sketches is not None

    def result(self, top: int) -> tuple[int, list[tuple[str, int]]]:
        """The distinct count and the ``top`` most frequent values, most frequent first
        (ties in value order: UTF-8 byte order, false before true)."""
        if self.sketches is not None:
            frequent, hll = self.sketches
            items = frequent.get_frequent_items(ds.NO_FALSE_POSITIVES)
            ranked = sorted(((v, int(n)) for v, n, _, _ in items), key=lambda p: (-p[1], p[0]))
            return round(float(hll.get_estimate())), ranked[:top]
        if self.parts:
            counted = _merged(self.parts)
        else:
            counted = pa.table({"value": pa.array([], self.type), "n": pa.array([], pa.int64())})
        ranked_table = counted.take(
            pc.select_k_unstable(counted, top, [("n", "descending"), ("value", "ascending")])
        )
        boolean = pa.types.is_boolean(self.type)
        pairs = [
            (str(v).lower() if boolean else str(v), int(n))
            for v, n in zip(
                ranked_table.column("value").to_pylist(),
                ranked_table.column("n").to_pylist(),
                strict=True,
            )
        ]
        pairs.sort(key=lambda p: (-p[1], p[0]))  # selected unordered: most frequent first
        return counted.num_rows, pairs


def _each(update: Callable[..., None], *columns: list[Any]) -> None:
    """``update`` called with each value (and its count): a sketch takes one value a call,
    and ``map`` makes those calls four times as fast as a loop."""
    deque(map(update, *columns), maxlen=0)


def _merged(parts: list[pa.Table]) -> pa.Table:
    """The counts of several chunks as one count per value."""
    if len(parts) == 1:
        return parts[0]
    summed = pa.concat_tables(parts).group_by("value").aggregate([("n", "sum")])
    return pa.table({"value": summed.column("value"), "n": summed.column("n_sum")})


def sketched_column(chunks: Chunks, t: pa.DataType, name: str) -> ColumnProfile | None:
    """The profile of a numeric, datetime, empty or other column read by ``chunks()`` (called
    once a pass); None for a kind summarised whole (categories)."""
    if pa.types.is_null(t):
        rows = sum(len(c) for c in chunks())
        return ColumnProfile(kind="empty", type=name, count=0, missing=rows, distinct=0)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return _numeric(chunks, t, name)
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return _datetime(chunks(), t, name)
    if pa.types.is_dictionary(t) or pa.types.is_boolean(t) or pa.types.is_string(t):
        return None
    rows = nulls = 0
    for chunk in chunks():
        rows, nulls = rows + len(chunk), nulls + chunk.null_count
    return ColumnProfile(kind="other", type=name, count=rows - nulls, missing=nulls)


class _Moments:
    """Count, mean and sum of squared deviations, merged batch by batch (Chan et al.)."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, values: Array) -> None:
        m = len(values)
        if not m:
            return
        floats = values.astype(np.float64, copy=False)
        mean = float(np.add.reduce(floats)) / m
        d = floats - mean
        m2 = float(np.dot(d, d))
        n = self.n + m
        delta = mean - self.mean
        self.mean += delta * m / n
        self.m2 += m2 + delta * delta * self.n * m / n
        self.n = n


def _present(chunk: pa.Array, t: pa.DataType) -> Array:
    """The present values of a chunk as numpy: no null, no NaN (missing, as in pandas)."""
    if pa.types.is_decimal(t):
        chunk = chunk.cast(pa.float64())
    if chunk.null_count:
        chunk = chunk.drop_null()
    values: Array = chunk.to_numpy(zero_copy_only=False)
    if values.dtype.kind == "f":
        values = values[~np.isnan(values)]
    return values


def _numeric(chunks: Chunks, t: pa.DataType, name: str) -> ColumnProfile:
    rows = present = infinite = 0
    lo: Any = None
    hi: Any = None
    moments, distinct = _Moments(), Distinct()
    kll = ds.kll_doubles_sketch(KLL_K)
    for chunk in chunks():
        rows += len(chunk)
        values = _present(chunk, t)
        present += len(values)
        if not len(values):
            continue
        distinct.add(values)
        finite = values
        if values.dtype.kind == "f":
            finite = values[np.isfinite(values)]
            infinite += len(values) - len(finite)
        if not len(finite):
            continue
        a, b = finite.min(), finite.max()
        lo, hi = (a, b) if lo is None else (min(lo, a), max(hi, b))
        moments.add(finite)
        kll.update(finite.astype(np.float64, copy=False))
    profile = ColumnProfile(
        kind="numeric",
        type=name,
        count=present,
        missing=rows - present,
        distinct=distinct.count,
        infinite=infinite,
    )
    approximate = ["distinct"] if distinct.approximate else []
    if moments.n:
        integer = pa.types.is_integer(t)
        profile.min, profile.max = (int(lo), int(hi)) if integer else (float(lo), float(hi))
        profile.mean = _finite(moments.mean)
        profile.std = _finite(math.sqrt(moments.m2 / (moments.n - 1))) if moments.n > 1 else None
        estimates = kll.get_quantiles(list(QUANTILES))
        profile.quantiles = {f"{p:g}": float(v) for p, v in zip(QUANTILES, estimates, strict=True)}
        approximate.append("quantiles")
        edges = bin_edges(float(lo), float(hi))
        if edges is not None:
            counts = np.zeros(len(edges) - 1, np.int64)
            for chunk in chunks():  # the second pass: exact counts in the exact range
                values = _present(chunk, t)
                counts += np.histogram(values[np.isfinite(values)], bins=edges)[0]
            profile.histogram = Histogram(edges=edges.tolist(), counts=counts.tolist())
    profile.approximate = sorted(approximate) or None
    return profile


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None  # a mean of huge values can overflow


def _datetime(chunks: Iterator[pa.Array], t: pa.DataType, name: str) -> ColumnProfile:
    rows = nulls = 0
    lo: Any = None
    hi: Any = None
    distinct = Distinct()
    width = pa.int32() if pa.types.is_date32(t) else pa.int64()
    for chunk in chunks:
        rows, nulls = rows + len(chunk), nulls + chunk.null_count
        if chunk.null_count == len(chunk):
            continue
        present = chunk.drop_null() if chunk.null_count else chunk
        stored = present.cast(width).to_numpy(zero_copy_only=False)  # instants as integers
        distinct.add(stored)
        a, b = int(stored.min()), int(stored.max())
        lo, hi = (a, b) if lo is None else (min(lo, a), max(hi, b))
    profile = ColumnProfile(
        kind="datetime", type=name, count=rows - nulls, missing=nulls, distinct=distinct.count
    )
    if lo is not None:
        # The ends as pandas writes them, as for a column profiled whole.
        both = pa.chunked_array([pa.array([lo, hi], width).cast(t)])
        first, last = both.to_pandas(date_as_object=False)
        profile.min, profile.max = first.isoformat(), last.isoformat()
    if distinct.approximate:
        profile.approximate = ["distinct"]
    return profile
