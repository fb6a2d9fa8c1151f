"""Data for the monitor tests: a baseline, windows drawn from it or shifted, and captured
requests written as the model servers write them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from modelwright.serving.capture import Capture

FEATURES = ["tenure", "calls", "plan"]


def customers(rows: int = 400, *, seed: int = 0, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "tenure": rng.normal(loc=shift, scale=1.0, size=rows),
            "calls": rng.integers(0, 5, size=rows),
            "plan": rng.choice(["basic", "plus", "pro"], size=rows),
            "churned": rng.integers(0, 2, size=rows),
        }
    )


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))  # type: ignore[no-any-return]


def capture(
    lake: Path,
    rows: Iterable[dict[str, Any]],
    *,
    deployment: str = "blue",
    status: int = 200,
    per_request: int = 1,
    shadow: bool = False,
) -> None:
    """One captured request per ``per_request`` rows (``dataframe_records``), as of now."""
    cap = Capture(
        str(lake), endpoint="churn", deployment=deployment, model="models:/churn/1", rate=1.0
    )
    batch: list[dict[str, Any]] = []
    n = 0
    for row in rows:
        batch.append(row)
        if len(batch) == per_request:
            body = json.dumps({"dataframe_records": batch}).encode()
            cap.record(f"req-{n}", body, b'{"predictions": [0]}', status, 3.0, shadow=shadow)
            batch, n = [], n + 1
    cap.close()


def capture_predictions(
    lake: Path, rows: list[dict[str, Any]], predictions: list[Any], *, prefix: str = "req"
) -> list[str]:
    """One captured request per row, answered with its prediction; returns the request ids
    (``<prefix>-<i>``)."""
    cap = Capture(str(lake), endpoint="churn", deployment="blue", model="models:/churn/1", rate=1.0)
    ids = []
    for i, (row, p) in enumerate(zip(rows, predictions, strict=True)):
        ids.append(f"{prefix}-{i}")
        body = json.dumps({"dataframe_records": [row]}).encode()
        cap.record(ids[-1], body, json.dumps({"predictions": [p]}).encode(), 200, 3.0)
    cap.close()
    return ids
