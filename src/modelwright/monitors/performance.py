"""The model quality signal ``performance``: captured predictions joined with their labels,
scored with ``sklearn.metrics``.

Classification (labels that are strings or booleans, or integral numbers of at most 20
values, unless the monitor names the task): accuracy, precision, recall and F1 (two classes:
the positive class is the larger label; more: macro averages), and ROC AUC and log loss when
every joined prediction carries its class probabilities. Regression: MAE, RMSE, R², MAPE.
Besides the metrics: ``labelled_share`` (joined rows / captured rows) and
``unmatched_labels``. No joined row is no data, never a score.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modelwright.monitors.models import PERFORMANCE_METRICS
from modelwright.monitors.predictions import to_classes_or_numbers
from modelwright.monitors.signals import Row, result

__all__ = ["decide_task", "performance"]

CLASSIFICATION = ("accuracy", "precision", "recall", "f1", "roc_auc", "log_loss")
REGRESSION = ("mae", "rmse", "r2", "mape")
_DISTINCT_CLASSES = 20


def decide_task(labels: pd.Series) -> str:
    values, numeric = to_classes_or_numbers(labels)
    if not numeric:
        return "classification"
    finite = values[np.isfinite(values)]
    integral = bool((finite == finite.round()).all())
    return "classification" if integral and finite.nunique() <= _DISTINCT_CLASSES else "regression"


def _metric(name: str, value: float | None, t: dict[str, float], detail: str = "") -> Row:
    limit = t.get(name)
    if value is None or not np.isfinite(value):
        return result("performance", name, None, None, limit, detail=detail or "undefined")
    low = PERFORMANCE_METRICS.get(name, False)
    breach = limit is not None and (value < limit if low else value > limit)
    return result(
        "performance", name, None, value, limit, status="alert" if breach else "ok", detail=detail
    )


def performance(
    joined: pd.DataFrame,
    *,
    captured: int,
    unmatched: int,
    task: str | None,
    thresholds: dict[str, float],
) -> list[Row]:
    """``joined``: one row per captured prediction with a label (columns label, prediction,
    proba); ``captured``: the window's predictions; ``unmatched``: labels matching none."""
    t = thresholds
    share = None if captured == 0 else len(joined) / captured
    rows = [
        _metric("labelled_share", share, t, f"{len(joined)} of {captured} prediction(s) labelled"),
        result("performance", "unmatched_labels", None, float(unmatched), status="ok"),
    ]
    if share is None:
        rows[0]["detail"] = "no captured prediction in the window"
    if joined.empty:
        detail = "no captured prediction of the window has a label"
        names = {"classification": CLASSIFICATION, "regression": REGRESSION}.get(task or "", ())
        return rows + [
            result("performance", n, None, None, t.get(n), detail=detail)
            for n in names or ("evaluation",)
        ]
    chosen = task or decide_task(joined["label"])
    if chosen == "regression":
        return rows + _regression(joined, t)
    return rows + _classification(joined, t)


def _regression(joined: pd.DataFrame, t: dict[str, float]) -> list[Row]:
    from sklearn import metrics

    y = pd.to_numeric(joined["label"], errors="coerce").astype(float)
    p = pd.to_numeric(joined["prediction"], errors="coerce").astype(float)
    keep = np.isfinite(y) & np.isfinite(p)
    y, p = y[keep], p[keep]
    if y.empty:
        return [_metric(n, None, t, "no numeric label and prediction") for n in REGRESSION]
    n = f"{len(y)} labelled prediction(s)"
    r2 = metrics.r2_score(y, p) if len(y) >= 2 else None  # undefined below two
    return [
        _metric("mae", metrics.mean_absolute_error(y, p), t, n),
        _metric("rmse", metrics.root_mean_squared_error(y, p), t, n),
        _metric("r2", r2, t, n if r2 is not None else "needs two labelled predictions"),
        _metric("mape", metrics.mean_absolute_percentage_error(y, p), t, n),
    ]


def _classification(joined: pd.DataFrame, t: dict[str, float]) -> list[Row]:
    from sklearn import metrics

    y_raw, p_raw = joined["label"].reset_index(drop=True), joined["prediction"]
    y, y_num = to_classes_or_numbers(y_raw)
    p, p_num = to_classes_or_numbers(p_raw.reset_index(drop=True))
    if y_num != p_num:  # a class 1 and a class "1" are the same class
        y, _ = to_classes_or_numbers(y_raw.map(_text))
        p, _ = to_classes_or_numbers(p_raw.reset_index(drop=True).map(_text))
    classes = sorted(set(y.dropna()) | set(p.dropna()))
    proba = _proba(joined["proba"], classes)
    if proba is not None:  # a prediction given only as probabilities: the likeliest class
        likeliest = pd.Series([classes[i] for i in proba.argmax(axis=1)], dtype=p.dtype)
        p = p.where(p.notna(), likeliest)
    keep = y.notna() & p.notna()
    y, p = y[keep], p[keep]
    if proba is not None:
        proba = proba[keep.to_numpy()]
    n = f"{len(y)} labelled prediction(s), {len(classes)} class(es)"
    if y.empty:
        return [_metric(m, None, t, "no labelled class") for m in CLASSIFICATION]
    if len(classes) <= 2:  # binary: the positive class is the larger label
        avg: dict[str, Any] = {"average": "binary", "pos_label": classes[-1]}
    else:
        avg = {"average": "macro", "labels": classes}
    rows = [
        _metric("accuracy", metrics.accuracy_score(y, p), t, n),
        _metric("precision", metrics.precision_score(y, p, zero_division=0, **avg), t, n),
        _metric("recall", metrics.recall_score(y, p, zero_division=0, **avg), t, n),
        _metric("f1", metrics.f1_score(y, p, zero_division=0, **avg), t, n),
    ]
    if proba is None:
        missing = "the captured predictions carry no class probabilities"
        rows += [
            result("performance", m, None, None, t.get(m), detail=missing)
            for m in ("roc_auc", "log_loss")
        ]
        return rows
    if y.nunique() < 2:
        rows.append(_metric("roc_auc", None, t, "one class among the labels: undefined"))
    elif len(classes) == 2:
        rows.append(_metric("roc_auc", metrics.roc_auc_score(y, proba[:, -1]), t, n))
    else:
        auc = metrics.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=classes)
        rows.append(_metric("roc_auc", auc, t, n))
    rows.append(_metric("log_loss", metrics.log_loss(y, proba, labels=classes), t, n))
    return rows


def _text(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _proba(probas: pd.Series, classes: list[Any]) -> np.ndarray | None:
    """The rows' class probabilities in the order of ``classes``; None unless every row has
    them (a list as long as the classes, or an object keyed by class)."""
    out = []
    for given in probas:
        if isinstance(given, list) and len(given) == len(classes):
            out.append([float(x) for x in given])
        elif isinstance(given, dict):
            keyed = {str(k): v for k, v in given.items()}
            row = [keyed.get(_text(c)) for c in classes]
            if any(v is None for v in row):
                return None
            out.append([float(x) for x in row if x is not None])
        else:
            return None
    return np.asarray(out, dtype=float) if out else None
