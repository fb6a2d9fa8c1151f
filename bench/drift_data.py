"""The mixed 25-column frames of bench/bench_drift.py, written once as Parquet (numpy/pandas only).

Columns: 10 continuous floats (some shifted, two with NaN), 3 integers with many values
(numerical), 5 integers with at most 8 values (categorical), 5 string categories (one with a
new value in current, one with missing values), 2 booleans. Every side is drawn from its own
seed, so the first 1,000 rows of a reference are the whole of a 1,000-row one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parent / ".data" / "drift"  # git-ignored
WORDS = np.array(
    ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"], dtype=object
)


def frame(n: int, seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    for i in range(10):
        moved = shift if i % 3 == 0 else 0.0  # a third of them drift
        values = (
            rng.normal(moved, 1.0 + i / 10, n) if i % 2 == 0 else rng.exponential(1.0 + moved, n)
        )
        if i in (4, 7):
            values[rng.random(n) < 0.05] = np.nan
        cols[f"num_{i}"] = values
    for i in range(3):
        cols[f"int_wide_{i}"] = rng.integers(0, 1000 + int(shift * 100 * (i == 0)), n)
    for i in range(5):
        k = 3 + i
        p = np.linspace(1.0, 1.0 + shift * (i % 2), k)
        cols[f"int_few_{i}"] = rng.choice(np.arange(k), n, p=p / p.sum())
    for i in range(5):
        k = 4 + i
        p = np.linspace(1.0, 1.0 + shift * (i % 2), k)
        words = rng.choice(WORDS[:k], n, p=p / p.sum())
        if i == 4:
            words[rng.random(n) < 0.1] = None
        if i == 3 and shift:
            words[rng.random(n) < 0.01] = "omega"  # a value the reference never had
        cols[f"cat_{i}"] = words
    for i in range(2):
        cols[f"flag_{i}"] = rng.random(n) < 0.3 + shift * i / 4
    return pd.DataFrame(cols)


def ensure(n: int, seed: int, shift: float) -> Path:
    """The Parquet file of ``frame(n, seed, shift)``, written if missing."""
    path = DATA / f"drift-{n}-{seed}-{shift}.parquet"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        frame(n, seed, shift).to_parquet(tmp, index=False, row_group_size=128 * 1024)
        tmp.rename(path)
    return path
