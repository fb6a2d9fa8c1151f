"""Side-by-side comparison of runs: the params and metrics that differ."""

from __future__ import annotations

import math
from collections.abc import Sequence

from modelwright.core.context import Context
from modelwright.errors import InvalidInput
from modelwright.tracking.models import CompareRuns, RunComparison, RunInfo
from modelwright.tracking.service import _infos, readable_run

__all__ = ["RunComparison", "compare", "compare_runs"]


def compare(ctx: Context, req: CompareRuns) -> RunComparison:
    """The runs side by side, each one the caller may read (an unreadable one is refused as
    ``get_run`` refuses it), in the order given."""
    if len(req.run_ids) < 2:
        raise InvalidInput(
            "run_ids: give at least two runs to compare", details={"field": "run_ids"}
        )
    return compare_runs(_infos(ctx, [readable_run(ctx, r) for r in req.run_ids]))


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
