"""Metrics for re-evaluating versions on one holdout dataset, computed with numpy/pandas."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from modelwright.errors import InvalidInput

__all__ = ["METRICS", "evaluate", "needs_scores"]


def _auc(y: np.ndarray[Any, Any], s: np.ndarray[Any, Any]) -> float:
    classes = np.unique(y)
    if len(classes) != 2:
        raise InvalidInput(f"metric: auc needs two classes in the label, found {len(classes)}")
    pos = y == classes[1]
    ranks = pd.Series(s.astype(float)).rank().to_numpy()  # ties get their average rank
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _f1(y: np.ndarray[Any, Any], p: np.ndarray[Any, Any]) -> float:
    positive = np.unique(y)[-1]
    tp = float(np.sum((p == positive) & (y == positive)))
    fp = float(np.sum((p == positive) & (y != positive)))
    fn = float(np.sum((p != positive) & (y == positive)))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def _r2(y: np.ndarray[Any, Any], p: np.ndarray[Any, Any]) -> float:
    y = y.astype(float)
    total = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - p.astype(float)) ** 2)) / total if total else 0.0


Metric = Callable[[np.ndarray[Any, Any], np.ndarray[Any, Any]], float]

METRICS: dict[str, Metric] = {
    "auc": _auc,
    "roc_auc": _auc,
    "accuracy": lambda y, p: float(np.mean(y == p)),
    "f1": _f1,
    "rmse": lambda y, p: float(np.sqrt(np.mean((y.astype(float) - p.astype(float)) ** 2))),
    "mse": lambda y, p: float(np.mean((y.astype(float) - p.astype(float)) ** 2)),
    "mae": lambda y, p: float(np.mean(np.abs(y.astype(float) - p.astype(float)))),
    "r2": _r2,
}


def needs_scores(metric: str) -> bool:
    return metric in ("auc", "roc_auc")


def evaluate(metric: str, y_true: Any, predicted: Any) -> float:
    fn = METRICS.get(metric)
    if fn is None:
        raise InvalidInput(
            f"metric: {metric!r} cannot be computed on a dataset (one of {', '.join(METRICS)})",
            details={"field": "metric"},
        )
    return fn(np.asarray(y_true).ravel(), np.asarray(predicted).ravel())
