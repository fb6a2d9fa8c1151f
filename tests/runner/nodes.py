"""Node functions the runner tests use (importable, so process and Ray workers find them)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

CALLS_FILE = "MW_TEST_CALLS"


def _note(name: str) -> None:
    # Worker processes append to a file, so tests can count real executions anywhere.
    path = os.environ.get(CALLS_FILE)
    if path:
        with open(path, "a") as f:
            f.write(name + "\n")


def source(n: int) -> pd.DataFrame:
    _note("source")
    rng = np.random.default_rng(0)
    return pd.DataFrame({"x": rng.normal(size=n), "g": [f"g{i % 4}" for i in range(n)]})


def double(frame: pd.DataFrame) -> pd.DataFrame:
    _note("double")
    out = frame.copy()
    out["x"] = out["x"] * 2
    return out


def summarise(frame: pd.DataFrame, scale: float) -> dict[str, float]:
    _note("summarise")
    if os.environ.get("MW_TEST_FAIL") == "summarise":
        raise RuntimeError("summarise was told to fail")
    return {"mean": float(frame["x"].mean() * scale), "rows": len(frame)}


def histogram(frame: pd.DataFrame) -> np.ndarray:
    _note("histogram")
    return np.histogram(frame["x"], bins=5)[0]


def opaque(frame: pd.DataFrame) -> object:
    _note("opaque")
    return {frozenset({1}): len(frame)}


def count(value: object) -> int:
    _note("count")
    return len(value)  # type: ignore[arg-type]


def evaluate(frame: pd.DataFrame) -> dict[str, object]:
    """Logs to its own run, and returns figures for a ``metrics`` catalog entry."""
    import modelwright as mw

    _note("evaluate")
    run = mw.active_run()
    assert run is not None
    mw.log_metric("rows_seen", len(frame))
    mw.log_param("threshold", 0.5)
    mw.log_text(f"run {run.id}", "notes/evaluate.txt")
    return {"mean": float(frame["x"].mean()), "f1": {"macro": 0.75}, "rows": np.int64(len(frame))}


def broken(frame: pd.DataFrame) -> float:
    _note("broken")
    return len(frame) / 0  # the line a failure points at


def nested(frame: pd.DataFrame) -> int:
    """Starts a run of its own under the node's run; ``end_run`` leaves the node's run be."""
    import modelwright as mw

    node_run = mw.active_run()
    with mw.start_run(nested=True, run_name="inner") as inner:
        mw.log_metric("inner_rows", len(frame))
        assert mw.active_run() is inner
    assert mw.active_run() is node_run
    mw.end_run()  # the node's run is ended by the pipeline's record, not here
    return len(frame)
