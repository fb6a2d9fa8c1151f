"""Seeded reference/current frames for the drift goldens: numpy and pandas only.

Imported by tests/monitoring (main venv) and by bench/make_drift_goldens.py (Evidently's venv),
so both sides compare the very same values; ``fingerprint`` lets the test prove it.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

# name -> (seed, reference rows, current rows): under and over Evidently's 1000-row switch,
# and exactly at it.
CASES: dict[str, tuple[int, int, int]] = {
    "small": (11, 500, 800),
    "boundary": (12, 1000, 600),
    "large": (13, 5000, 7000),
}

COLORS = np.array(["red", "green", "blue", "amber", "violet"], dtype=object)


def _side(rng: np.random.Generator, n: int, shift: float) -> dict[str, object]:
    """One side's columns; ``shift`` moves some of them (0 for the reference)."""
    cols: dict[str, object] = {}
    # Continuous: drifting, not drifting, skewed, scaled.
    cols["normal_shift"] = rng.normal(shift, 1.0, n)
    cols["normal_same"] = rng.normal(0.0, 1.0, n)
    cols["exponential"] = rng.exponential(1.0 + shift, n)
    cols["uniform_wide"] = rng.uniform(0, 100 * (1 + shift), n)
    # Integers: many distinct values (numerical), few (categorical), binary, constant.
    cols["int_many"] = rng.integers(0, 60 + int(shift * 40), n)
    cols["int_few"] = rng.integers(0, 4, n)
    cols["int_shift_few"] = rng.choice(np.arange(6), n, p=_probs(6, shift))
    cols["int_binary"] = rng.integers(0, 2, n)
    cols["int_constant"] = np.full(n, 7, dtype=np.int64)
    # Floats with few distinct values: <=5 (chi-square/Z or JS), 6-20, more than 20.
    cols["float_three"] = rng.choice(np.array([0.5, 1.5, 2.5]), n, p=_probs(3, shift))
    cols["float_binary"] = rng.choice(np.array([0.0, 1.0]), n, p=_probs(2, shift / 2))
    cols["float_twelve"] = rng.integers(0, 12, n).astype(float) + (shift > 0)
    cols["float_rounded"] = np.round(rng.normal(10 + shift, 3, n), 1)
    # Categories: strings, a new value in current, pandas category, booleans, binary strings.
    cols["color"] = rng.choice(COLORS[:4], n, p=_probs(4, shift))
    cols["color_new_value"] = rng.choice(COLORS[: 4 + (shift > 0)], n)
    cols["category_dtype"] = pd.Categorical(rng.choice(COLORS[:3], n))
    cols["flag"] = rng.random(n) < (0.3 + shift / 4)
    cols["yes_no"] = rng.choice(np.array(["yes", "no"], dtype=object), n)
    # NaN and ±inf mixed in (dropped before testing), and None in strings.
    with_gaps = rng.normal(shift / 3, 1.0, n)
    with_gaps[rng.random(n) < 0.1] = np.nan
    with_gaps[rng.random(n) < 0.02] = np.inf
    with_gaps[rng.random(n) < 0.02] = -np.inf
    cols["float_nan_inf"] = with_gaps
    few_gaps = rng.choice(np.array([1.0, 2.0, 3.0, 4.0]), n)
    few_gaps[rng.random(n) < 0.2] = np.nan
    cols["float_few_nan"] = few_gaps
    labels = rng.choice(COLORS[:3], n).astype(object)
    labels[rng.random(n) < 0.15] = None
    cols["color_none"] = labels
    return cols


def _probs(k: int, shift: float) -> np.ndarray:
    weights = np.linspace(1.0, 1.0 + shift, k)
    return weights / weights.sum()


def make_case(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(reference, current)`` of a case in CASES."""
    seed, n_ref, n_cur = CASES[name]
    rng = np.random.default_rng(seed)
    reference = pd.DataFrame(_side(rng, n_ref, 0.0))
    current = pd.DataFrame(_side(rng, n_cur, 0.4))
    return reference, current


def fingerprint(frame: pd.DataFrame) -> str:
    """A digest of the values (not the dtypes, nor None vs NaN: pandas 2 and 3 differ there)."""
    digest = hashlib.sha256()
    for name in frame.columns:
        digest.update(name.encode())
        values = [None if pd.isna(v) else v for v in frame[name].astype(object).tolist()]
        digest.update(repr(values).encode())
    return digest.hexdigest()[:16]


# Evidently methods run on every column they accept, one preset per method: name -> columns.
NUMERICAL = [
    "normal_shift",
    "normal_same",
    "exponential",
    "int_many",
    "float_rounded",
    "float_nan_inf",
]
CATEGORICAL = [
    "int_few",
    "int_shift_few",
    "color",
    "color_new_value",
    "category_dtype",
    "flag",
    "yes_no",
    "color_none",
]
METHOD_COLUMNS: dict[str, list[str]] = {
    "ks": NUMERICAL,
    "wasserstein": NUMERICAL,
    "anderson": NUMERICAL,
    "jensenshannon": NUMERICAL + CATEGORICAL,
    "psi": NUMERICAL + CATEGORICAL,
    "kl_div": NUMERICAL + CATEGORICAL,
    "hellinger": NUMERICAL + CATEGORICAL,
    "chisquare": CATEGORICAL,
    "z": ["int_binary", "flag", "yes_no"],
}
