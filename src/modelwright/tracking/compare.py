"""Side-by-side comparison of runs: the params and metrics that differ."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from modelwright.tracking.models import RunInfo

__all__ = ["RunComparison", "compare_runs"]


class RunComparison(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="strings")

    run_ids: list[str]
    params: dict[str, list[str | None]]
    metrics: dict[str, list[float | None]]
    same_params: dict[str, str]
    same_metrics: dict[str, float]


def _same(values: Sequence[object]) -> bool:
    first = values[0]
    for v in values[1:]:
        both_nan = (
            isinstance(v, float)
            and isinstance(first, float)
            and math.isnan(v)
            and math.isnan(first)
        )
        if v != first and not both_nan:
            return False
    return True


def compare_runs(runs: Sequence[RunInfo]) -> RunComparison:
    params: dict[str, list[str | None]] = {}
    metrics: dict[str, list[float | None]] = {}
    same_params: dict[str, str] = {}
    same_metrics: dict[str, float] = {}
    for key in sorted({k for r in runs for k in r.params}):
        pv = [r.params.get(key) for r in runs]
        if _same(pv) and pv[0] is not None:
            same_params[key] = pv[0]
        else:
            params[key] = pv
    for key in sorted({k for r in runs for k in r.metrics}):
        mv = [r.metrics.get(key) for r in runs]
        if _same(mv) and mv[0] is not None:
            same_metrics[key] = mv[0]
        else:
            metrics[key] = mv
    return RunComparison(
        run_ids=[r.id for r in runs],
        params=params,
        metrics=metrics,
        same_params=same_params,
        same_metrics=same_metrics,
    )
