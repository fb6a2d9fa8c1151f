"""Ranking versions by a metric: the platform's leaderboard and the client's re-evaluated one
order the same way."""

from __future__ import annotations

import math

from modelwright.registry import models as m

__all__ = ["lower_is_better", "rank"]

# Metric names for which smaller is better, unless the caller says otherwise.
_LOWER_IS_BETTER = ("loss", "error", "rmse", "mse", "mae", "mape", "logloss", "latency")


def lower_is_better(metric: str) -> bool:
    key = metric.lower()
    return any(word in key for word in _LOWER_IS_BETTER)


def rank(entries: list[m.LeaderboardEntry], *, higher_is_better: bool) -> list[m.LeaderboardEntry]:
    """Best first; versions without a value last (by version); ties keep the newer first."""

    def key(e: m.LeaderboardEntry) -> tuple[int, float, int]:
        if e.value is None or math.isnan(e.value):
            return (1, 0.0, -e.version)
        return (0, -e.value if higher_is_better else e.value, -e.version)

    out = sorted(entries, key=key)
    for i, e in enumerate(out, 1):
        e.rank = i
    return out
