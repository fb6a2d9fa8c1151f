"""A user's own leaderboard metrics, named by import path in the tests."""

from __future__ import annotations

from typing import Any

import numpy as np


def cost(y_true: Any, y_pred: Any) -> float:
    """Missed positives cost 5, false alarms 1 (labels in, lower is better by attribute)."""
    y, p = np.asarray(y_true), np.asarray(y_pred)
    return float(5 * np.sum((y == 1) & (p == 0)) + np.sum((y == 0) & (p == 1)))


cost.higher_is_better = False  # type: ignore[attr-defined]


def top_score(y_true: Any, y_pred: Any) -> float:
    """The largest score given: receives scores, not labels."""
    return float(np.max(y_pred))


top_score.needs_scores = True  # type: ignore[attr-defined]
