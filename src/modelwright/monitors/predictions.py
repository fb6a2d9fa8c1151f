"""Captured predictions read back from the responses, joined with ground-truth labels, and
the prediction drift signal.

A captured response is the endpoint's answer (``{"predictions": [...]}``, or the Open
Inference Protocol's ``outputs``). A request of one row is keyed by its request id; the rows
of a request of several are keyed ``REQUEST_ID#0``, ``REQUEST_ID#1``, ... (0-based), which is
how their labels name them. A prediction is a class or a number, or an object with one
(``label`` or ``prediction``) and the class probabilities (``probabilities``: a list in the
order of the sorted classes, or an object keyed by class).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import orjson
import pandas as pd

from modelwright.monitoring import DriftInputError, drift
from modelwright.monitoring.results import ColumnKind
from modelwright.monitors.signals import Row, result

__all__ = ["decode_predictions", "prediction_drift", "to_classes_or_numbers"]

_DISTINCT_CLASSES = 20  # integral numbers with at most this many values are classes


def decode_predictions(
    request_ids: Iterable[str], responses: Iterable[str], statuses: Iterable[int]
) -> pd.DataFrame:
    """One row per prediction of the successful responses: key, prediction, proba (None,
    a list or a dict)."""
    keys: list[str] = []
    values: list[Any] = []
    probas: list[Any] = []
    for request_id, body, status in zip(request_ids, responses, statuses, strict=True):
        if status != 200 or not isinstance(body, str):
            continue
        try:
            found = _predictions(body)
        except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
            continue
        for i, p in enumerate(found):
            value, proba = _split(p)
            keys.append(str(request_id) if len(found) == 1 else f"{request_id}#{i}")
            values.append(value)
            probas.append(proba)
    return pd.DataFrame({"key": keys, "prediction": values, "proba": probas})


def _predictions(body: str) -> list[Any]:
    payload = orjson.loads(body)
    if isinstance(payload, dict) and isinstance(payload.get("predictions"), list):
        return payload["predictions"]  # type: ignore[no-any-return]
    if isinstance(payload, dict) and isinstance(payload.get("outputs"), list):
        outputs = payload["outputs"]
        if len(outputs) == 1 and isinstance(outputs[0].get("data"), list):
            return outputs[0]["data"]  # type: ignore[no-any-return]
    raise ValueError("no predictions")


def _split(p: Any) -> tuple[Any, Any]:
    if isinstance(p, dict):
        value = p.get("label", p.get("prediction"))
        return value, p.get("probabilities")
    if isinstance(p, list) and len(p) == 1:
        return p[0], None  # a column vector's row
    if isinstance(p, list):
        return None, p  # probabilities alone: the class is the likeliest one
    return p, None


def to_classes_or_numbers(values: pd.Series) -> tuple[pd.Series, bool]:
    """(the values as floats, True) when every one is a number (booleans aside), else as
    strings (False): JSON may make a class 1 of the labels a 1.0 of the predictions."""
    present = values.dropna()
    numeric = bool(len(present)) and all(
        isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)
        for v in present
    )
    if numeric:
        return pd.to_numeric(values, errors="coerce").astype(float), True
    return values.map(lambda v: None if v is None else str(v)).astype(object), False


def _kind(values: pd.Series, numeric: bool) -> ColumnKind:
    if not numeric:
        return "categorical"
    finite = values[np.isfinite(values)]
    integral = bool((finite == finite.round()).all())
    return "categorical" if integral and finite.nunique() <= _DISTINCT_CLASSES else "numerical"


def prediction_drift(
    baseline: pd.Series, current: pd.Series, threshold: float | None, *, detail: str = ""
) -> list[Row]:
    """The drift of the window's predictions against the baseline's, on the one column."""
    if current.dropna().empty:
        return [result("prediction", "drift", None, None, detail="no prediction in the window")]
    ref, ref_numeric = to_classes_or_numbers(baseline.reset_index(drop=True))
    cur, cur_numeric = to_classes_or_numbers(current.reset_index(drop=True))
    if ref_numeric != cur_numeric:  # compare as classes: a type change is itself a shift
        ref, _ = to_classes_or_numbers(baseline.map(str).reset_index(drop=True))
        cur, _ = to_classes_or_numbers(current.map(str).reset_index(drop=True))
        ref_numeric = False
    kind = _kind(ref, ref_numeric)
    try:
        found = drift(
            pd.DataFrame({"prediction": ref}),
            pd.DataFrame({"prediction": cur}),
            column_types={"prediction": kind},
            threshold=threshold,
        )
    except DriftInputError as exc:
        return [result("prediction", "drift", None, None, status="error", detail=exc.message)]
    c = found["prediction"]
    if c.status != "ok":
        return [result("prediction", "drift", None, None, status="no_data", detail=c.reason or "")]
    label = c.method_label or c.method or ""
    return [
        result(
            "prediction",
            "drift",
            None,
            c.score,
            c.threshold,
            status="alert" if c.drifted else "ok",
            detail=f"{label} ({kind}){'; ' + detail if detail else ''}",
        )
    ]
