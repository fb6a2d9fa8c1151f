"""Distinct counts, aligned value counts and Evidently's binning, vectorised.

Evidently builds Python dicts from ``value_counts`` and ``np.histogram`` with explicit edges;
these give the same numbers (same keys, same counts, same bins) with hash factorisation,
``np.bincount`` and numpy's uniform-bin histogram path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "aligned_counts",
    "binned_percents",
    "concat_values",
    "count_distinct",
    "fill_zeroes",
]

Array = np.ndarray[Any, Any]

_FIRST_CHUNK = 4096


def count_distinct(values: Array, cap: int) -> int:
    """The number of distinct values if it is at most ``cap``, else ``cap + 1``.

    Why: the default test choice only asks "more than 5?", "more than 20?", "more than 10?";
    on a million continuous values a full ``nunique`` costs ~1 s, while the first few thousand
    values already answer. Low-cardinality columns are scanned whole, by hash (``pd.unique``).
    """
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
    """``(keys, reference_counts, current_counts)`` over the union of values, one key each."""
    codes, keys = pd.factorize(concat_values(reference, current), sort=False)
    size = len(keys)
    ref = np.bincount(codes[: reference.size], minlength=size)
    cur = np.bincount(codes[reference.size :], minlength=size)
    return np.asarray(keys), ref, cur


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
