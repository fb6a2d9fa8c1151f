"""Distinct counts, aligned value counts and Evidently's binning, vectorised.

Evidently builds Python dicts from ``value_counts`` and ``np.histogram`` with explicit edges;
these give the same numbers (same keys, same counts, same bins) with hash factorisation,
``np.bincount`` and numpy's uniform-bin histogram path.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np
import pandas as pd

__all__ = [
    "Labels",
    "aligned_counts",
    "binned_percents",
    "concat_values",
    "count_distinct",
    "distinct_values",
    "fill_zeroes",
]

Array = np.ndarray[Any, Any]

_FIRST_CHUNK = 4096
# Integers spanning fewer values than this are counted with np.bincount, not by hashing.
_BINCOUNT_SPAN = 1 << 20


class Labels(np.ndarray[Any, Any]):
    """An object array of a string or categorical column's values, as methods receive it, that
    also remembers its factorisation (``codes`` into ``uniques``).

    Why: counting a million strings by hash costs ~0.1 s a side; the column was already
    factorised when it was read (cheaply, for Arrow strings and categoricals), so the counts are
    a ``np.bincount`` of the codes. Any array derived from it (a slice, a copy) forgets the
    codes and is counted the ordinary way.
    """

    codes: Array | None
    uniques: Array | None

    @classmethod
    def of(cls, codes: Array, uniques: Array) -> Labels:
        out = uniques[codes].view(cls)
        out.codes, out.uniques = codes, uniques
        return out

    def __array_finalize__(self, obj: Any) -> None:
        self.codes = None
        self.uniques = None


def _int_span(values: Array) -> tuple[Array, int, int] | None:
    """``(values as ints, low, span)`` for bool/int arrays over a small range, else None."""
    if values.dtype.kind not in "iub" or values.size == 0:
        return None
    ints = values.view(np.uint8) if values.dtype.kind == "b" else values
    low, high = int(ints.min()), int(ints.max())
    return (ints, low, high - low + 1) if high - low < _BINCOUNT_SPAN else None


def count_distinct(values: Array, cap: int) -> int:
    """The number of distinct values if it is at most ``cap``, else ``cap + 1``.

    Why: the default test choice only asks "more than 5?", "more than 20?", "more than 10?";
    on a million continuous values a full ``nunique`` costs ~1 s, while the first few thousand
    values already answer. Low-cardinality columns are scanned whole: small-range integers by
    ``np.bincount``, anything else by hash (``pd.unique``).
    """
    span = _int_span(values)
    if span is not None:
        ints, low, size = span
        return min(int(np.count_nonzero(np.bincount(ints - low, minlength=size))), cap + 1)
    if values.size <= _FIRST_CHUNK:
        return min(len(pd.unique(values)), cap + 1)
    seen = pd.unique(values[:_FIRST_CHUNK])
    if len(seen) > cap:
        return cap + 1
    step = _FIRST_CHUNK * 16
    for start in range(_FIRST_CHUNK, values.size, step):
        seen = pd.unique(np.concatenate([seen, pd.unique(values[start : start + step])]))
        if len(seen) > cap:
            return cap + 1
    return len(seen)


def distinct_values(reference: Array, current: Array, cap: int) -> int:
    """``count_distinct`` of both sides together, without concatenating when it can."""
    if _labelled(reference, current) or (_int_span(reference) and _int_span(current)):
        keys, _, _ = aligned_counts(reference, current)
        return min(keys.size, cap + 1)
    return count_distinct(concat_values(reference, current), cap)


def _labelled(reference: Array, current: Array) -> bool:
    return (
        isinstance(reference, Labels)
        and isinstance(current, Labels)
        and reference.codes is not None
        and current.codes is not None
    )


def concat_values(reference: Array, current: Array) -> Array:
    """Both sides in one array, as ``pd.concat`` of the two columns would hold them."""
    if reference.dtype == current.dtype or (
        reference.dtype.kind in "iuf" and current.dtype.kind in "iuf"
    ):
        return np.concatenate([reference, current])
    # Mixed kinds (e.g. int64 reference and bool current): compare values as Python objects, as
    # Evidently's dict keys do.
    return np.concatenate([reference.astype(object), current.astype(object)])


def aligned_counts(reference: Array, current: Array) -> tuple[Array, Array, Array]:
    """``(keys, reference_counts, current_counts)`` over the union of values present, one key
    each (in no particular order: Evidently's is a set's)."""
    if _labelled(reference, current):
        return _label_counts(reference, current)  # type: ignore[arg-type]
    ref_span, cur_span = _int_span(reference), _int_span(current)
    if ref_span and cur_span and reference.dtype == current.dtype:
        low = min(ref_span[1], cur_span[1])
        size = max(ref_span[1] + ref_span[2], cur_span[1] + cur_span[2]) - low
        ref = np.bincount(ref_span[0] - low, minlength=size)
        cur = np.bincount(cur_span[0] - low, minlength=size)
        present = np.flatnonzero(ref + cur)
        keys = (present + low).astype(reference.dtype)
        return keys, ref[present], cur[present]
    codes, uniques = pd.factorize(concat_values(reference, current), sort=False)
    size = len(uniques)
    ref = np.bincount(codes[: reference.size], minlength=size)
    cur = np.bincount(codes[reference.size :], minlength=size)
    return np.asarray(uniques), ref, cur


def _label_counts(reference: Labels, current: Labels) -> tuple[Array, Array, Array]:
    # One key per distinct value across both sides (dict equality, as Evidently's dict keys).
    index: dict[Any, int] = {}
    maps = []
    for side in (reference, current):
        uniques = cast(Array, side.uniques)  # not None: checked by _labelled
        maps.append(
            np.array([index.setdefault(u, len(index)) for u in uniques.tolist()], dtype=np.intp)
        )
    size = len(index)
    ref = np.bincount(maps[0][cast(Array, reference.codes)], minlength=size)
    cur = np.bincount(maps[1][cast(Array, current.codes)], minlength=size)
    keys = np.empty(size, dtype=object)
    keys[:] = list(index)
    present = np.flatnonzero(ref + cur)  # values dropped as ±inf leave unused uniques
    return keys[present], ref[present], cur[present]


def fill_zeroes(percents: Array) -> Array:
    """Evidently's ``feel_zeroes``: empty bins get min(nonzero)/1e6, or 1e-4 if min > 1e-4."""
    nonzero = percents[percents != 0]
    smallest = nonzero.min()
    filler = smallest / 10**6 if smallest <= 0.0001 else 0.0001
    return np.where(percents == 0, filler, percents)


def binned_percents(
    reference: Array, current: Array, numerical: bool, *, fill: bool
) -> tuple[Array, Array]:
    """Evidently's ``get_binned_data``: the share of each side per bin (or per value).

    Numerical columns with more than 20 distinct reference values are cut into Sturges bins
    over reference and current together; anything else is counted per distinct value.
    """
    if numerical and count_distinct(reference, 20) > 20:
        edges = np.histogram_bin_edges(concat_values(reference, current), bins="sturges")
        ref_counts = _histogram(reference, edges)
        cur_counts = _histogram(current, edges)
    else:
        _, ref_counts, cur_counts = aligned_counts(reference, current)
    ref_p = ref_counts / reference.size
    cur_p = cur_counts / current.size
    if fill:
        ref_p, cur_p = fill_zeroes(ref_p), fill_zeroes(cur_p)
    return ref_p, cur_p


def _histogram(values: Array, edges: Array) -> Array:
    # Sturges edges are a linspace, so numpy's uniform-bin path (no binary search) gives the
    # same edges and, after its own edge correction, the same counts. Checked, else fall back.
    counts, got = np.histogram(values, bins=edges.size - 1, range=(edges[0], edges[-1]))
    if not np.array_equal(got, edges):
        counts, _ = np.histogram(values, bins=edges)
    return counts
