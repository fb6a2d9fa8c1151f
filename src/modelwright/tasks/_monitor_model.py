"""The model signals of a monitor's window, in the evaluation's child process: ``prediction``
(the window's predictions against the baseline's) and ``performance`` (the window's
predictions joined with their labels). The pure computations are in ``monitors.predictions``
and ``monitors.performance``; here the data is fetched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from modelwright.client import Client
from modelwright.monitors.capture import captured_ids
from modelwright.monitors.performance import performance
from modelwright.monitors.predictions import decode_predictions, prediction_drift
from modelwright.monitors.signals import Row

__all__ = ["model_signals"]

_LOOKUP = 10_000  # request ids per label query


def model_signals(
    client: Client,
    scope: dict[str, str],
    inputs: dict[str, Any],
    captured: pd.DataFrame,
    baseline: Callable[[], pd.DataFrame],
) -> list[Row]:
    """``scope``: the monitor's workspace and environment; ``baseline`` loads the baseline
    (only when a prediction needs comparing)."""
    signals = set(inputs["signals"])
    predicted = decode_predictions(captured["request_id"], captured["response"], captured["status"])
    rows: list[Row] = []
    if "prediction" in signals:
        rows += _prediction(client, scope["workspace"], inputs, predicted, baseline)
    if "performance" in signals:
        rows += _performance(client, scope, inputs, predicted)
    return rows


def _prediction(
    client: Client,
    ws: str,
    inputs: dict[str, Any],
    predicted: pd.DataFrame,
    baseline: Callable[[], pd.DataFrame],
) -> list[Row]:
    threshold = inputs["thresholds"].get("prediction_drift")
    if predicted["prediction"].dropna().empty:
        return prediction_drift(pd.Series(dtype=object), predicted["prediction"], threshold)
    options = inputs["options"]
    frame = baseline()
    if options["baseline_predictions"] == "label":
        column = options["label_column"]
        return prediction_drift(
            frame[column], predicted["prediction"], threshold, detail=f"baseline's {column}"
        )
    if inputs["model"] is None:
        return prediction_drift(pd.Series(dtype=object), pd.Series(dtype=object), threshold)
    # The served model's predictions on the baseline, once per evaluation.
    model = client.load_model(inputs["model"], workspace=ws)
    raw = np.asarray(model.predict(frame[inputs["features"]]))
    if raw.ndim > 1:
        raw = raw[:, 0] if raw.shape[1] == 1 else raw.argmax(axis=1)
    return prediction_drift(
        pd.Series(raw.tolist()), predicted["prediction"], threshold, detail=inputs["model"]
    )


def _performance(
    client: Client, scope: dict[str, str], inputs: dict[str, Any], predicted: pd.DataFrame
) -> list[Row]:
    keys = predicted["key"].tolist()
    found: dict[str, Any] = {}
    for i in range(0, len(keys), _LOOKUP):
        for label in client.query_labels(
            inputs["monitor"],
            request_ids=keys[i : i + _LOOKUP],
            limit=_LOOKUP,
            workspace=scope["workspace"],
            environment=scope["environment"],
        ):
            found[label.request_id] = label.label
    joined = predicted[predicted["key"].isin(found)].copy()
    joined["label"] = joined["key"].map(found)
    return performance(
        joined.reset_index(drop=True),
        captured=len(predicted),
        unmatched=_unmatched(client, scope, inputs),
        task=inputs["options"]["task"],
        thresholds=inputs["thresholds"],
    )


def _unmatched(client: Client, scope: dict[str, str], inputs: dict[str, Any]) -> int:
    """Labels received in the window whose request no capture holds (yet)."""
    received = client.query_labels(
        inputs["monitor"],
        workspace=scope["workspace"],
        environment=scope["environment"],
        received_since=datetime.fromisoformat(inputs["window_start"]),
        received_until=datetime.fromisoformat(inputs["window_end"]),
        limit=100_000,
    )
    ids = {r.request_id for r in received}
    if not ids or inputs["capture_url"] is None:
        return len(ids)
    # A row of a request of several rows is labelled REQUEST_ID#i.
    wanted = ids | {i.rsplit("#", 1)[0] for i in ids if "#" in i}
    known = captured_ids(inputs["capture_url"], inputs["endpoint"], wanted)
    return sum(1 for i in ids if i not in known and i.rsplit("#", 1)[0] not in known)
