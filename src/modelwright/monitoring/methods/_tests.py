"""Statistical tests whose score is a p-value: K–S, chi-square, Z-test, Anderson–Darling.

Each mirrors the Evidently 0.7.23 function named in its docstring, formula for formula, so
that the p-values agree to floating-point rounding.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from modelwright.monitoring._counts import aligned_counts
from modelwright.monitoring.methods._base import Array, PValueTest, require_values
from modelwright.monitoring.results import ColumnKind, Score

__all__ = ["AndersonDarling", "ChiSquare", "KolmogorovSmirnov", "ZTest", "ks_2samp"]

_NUMERICAL: frozenset[ColumnKind] = frozenset({"numerical"})
# As registered in Evidently; its default choice still runs both on numerical columns with
# few distinct values, which drift() allows for the defaults only.
_CATEGORICAL: frozenset[ColumnKind] = frozenset({"categorical"})


@dataclass(frozen=True)
class KolmogorovSmirnov(PValueTest):
    """Two-sample K–S, two-sided (``ks_stattest._ks_stat_test``): drift at ``p <= threshold``."""

    name: str = "ks"
    label: str = "K-S p_value"
    kinds: frozenset[ColumnKind] = field(default=_NUMERICAL)
    inclusive: bool = True

    def compute(self, reference: Array, current: Array, kind: ColumnKind) -> Score:
        require_values(reference, current)
        statistic, p_value = ks_2samp(reference, current)
        return Score(value=p_value, statistic=statistic)


# scipy's ks_2samp(mode="auto") is exact up to this many values a side, asymptotic above.
_KS_MAX_EXACT = 10000


def _right_counts(values: Array) -> Array:
    """For sorted ``values``: how many are <= each one (``searchsorted(v, v, 'right')``), O(n)."""
    ends = np.flatnonzero(values[1:] != values[:-1]) + 1
    ends = np.append(ends, values.size)
    return np.repeat(ends, np.diff(ends, prepend=0))


def ks_2samp(reference: Array, current: Array) -> tuple[float, float]:
    """``(D, p)`` of ``scipy.stats.ks_2samp(reference, current)`` (two-sided, mode "auto").

    Small samples go to scipy (its exact p-value). Above 10,000 values a side scipy looks up
    each of the n1+n2 values in both samples (four binary searches per value pair); here each
    sample's own ECDF is a run length and only the cross look-ups search, which halves the
    work (and is ~100× less when one side is Evidently's 1,000-row reference). The ECDF values
    are the same count/n divisions, so D is bit-identical; the p-value is scipy's asymptotic
    one, ``kstwo.sf(D, round(n1·n2/(n1+n2)))``, as ks_2samp computes it.
    """
    if max(reference.size, current.size) <= _KS_MAX_EXACT:
        result = stats.ks_2samp(reference, current)
        return float(result.statistic), float(result.pvalue)
    a, b = np.sort(reference), np.sort(current)
    n1, n2 = a.size, b.size
    diff_at_a = _right_counts(a) / n1 - np.searchsorted(b, a, side="right") / n2
    diff_at_b = np.searchsorted(a, b, side="right") / n1 - _right_counts(b) / n2
    max_s = max(diff_at_a.max(), diff_at_b.max())
    min_s = np.clip(-min(diff_at_a.min(), diff_at_b.min()), 0, 1)
    d = min_s if min_s > max_s else max_s
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    p_value = np.clip(stats.kstwo.sf(d, np.round(en)), 0, 1)
    return float(d), float(p_value)


@dataclass(frozen=True)
class ChiSquare(PValueTest):
    """Pearson chi-square of current counts against reference shares scaled to the current size
    (``chisquare_stattest._chi_stat_test``). A value never seen in the reference gives an
    infinite statistic and p = 0, as in Evidently.
    """

    name: str = "chisquare"
    label: str = "chi-square p_value"
    kinds: frozenset[ColumnKind] = field(default=_CATEGORICAL)

    def compute(self, reference: Array, current: Array, kind: ColumnKind) -> Score:
        require_values(reference, current)
        _, ref, cur = aligned_counts(reference, current)
        f_exp = ref * (current.size / reference.size)
        with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = stats.chisquare(cur, f_exp)
        return Score(value=float(result.pvalue), statistic=float(result.statistic))


@dataclass(frozen=True)
class ZTest(PValueTest):
    """Two-proportion Z-test (``z_stattest._z_stat_test``): the share of values other than the
    smallest value (in sorted order) on each side. p = 2·(1 − Φ(|z|)), written as Evidently
    writes it (not ``2·sf``), so tiny p-values round the same way.
    """

    name: str = "z"
    label: str = "Z-test p_value"
    kinds: frozenset[ColumnKind] = field(default=_CATEGORICAL)

    def compute(self, reference: Array, current: Array, kind: ColumnKind) -> Score:
        require_values(reference, current)
        keys, ref, cur = aligned_counts(reference, current)
        ref_seen, cur_seen = np.flatnonzero(ref), np.flatnonzero(cur)
        if ref_seen.size == 1 and cur_seen.size == 1 and ref_seen[0] == cur_seen[0]:
            return Score(value=1.0, statistic=0.0)  # one and the same value on both sides
        listed = keys.tolist()
        first = listed.index(sorted(listed)[0])
        n1, n2 = reference.size, current.size
        p1 = float(n1 - ref[first]) / n1
        p2 = float(n2 - cur[first]) / n2
        pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
        z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
        p_value = 2 * (1 - stats.norm.cdf(np.abs(z)))
        return Score(value=float(p_value), statistic=float(z))


@dataclass(frozen=True)
class AndersonDarling(PValueTest):
    """k-sample Anderson–Darling (``anderson_darling_stattest``) with scipy's default p-value,
    which scipy caps to [0.001, 0.25]; drift at ``p < threshold`` (default 0.1).
    """

    name: str = "anderson"
    label: str = "Anderson-Darling"
    default_threshold: float = 0.1
    kinds: frozenset[ColumnKind] = field(default=_NUMERICAL)

    def compute(self, reference: Array, current: Array, kind: ColumnKind) -> Score:
        require_values(reference, current)
        with warnings.catch_warnings():
            # scipy warns when it caps the p-value; the cap is part of the method.
            warnings.simplefilter("ignore", UserWarning)
            result = stats.anderson_ksamp([reference, current])
        return Score(value=float(result[2]), statistic=float(result[0]))
