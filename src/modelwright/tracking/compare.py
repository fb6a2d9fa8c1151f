"""Side-by-side comparison of runs: the params and metrics that differ."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TypeVar

from sqlalchemy import select

from modelwright.core.context import Context
from modelwright.errors import InvalidInput
from modelwright.store import schema
from modelwright.tracking._lookup import readable_run, run_infos
from modelwright.tracking.models import CompareRuns, RunComparison, RunInfo

__all__ = ["RunComparison", "compare", "compare_runs"]

V = TypeVar("V", str, float)


def compare(ctx: Context, req: CompareRuns) -> RunComparison:
    """The runs side by side, each one the caller may read (an unreadable one is refused as
    ``get_run`` refuses it), in the order given."""
    if len(req.run_ids) < 2:
        raise InvalidInput(
            "run_ids: give at least two runs to compare", details={"field": "run_ids"}
        )
    # One query for the runs, not one a run: each check below then finds its run loaded
    # (held here: the session keeps weak references only).
    loaded = ctx.session.scalars(select(schema.Run).where(schema.Run.id.in_(req.run_ids))).all()
    runs = [readable_run(ctx, r) for r in req.run_ids]
    del loaded
    return compare_runs(run_infos(ctx, runs))


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


def _split(
    per_run: Sequence[Mapping[str, V]],
) -> tuple[dict[str, list[V | None]], dict[str, V]]:
    """Each key's values across the runs, apart from the keys every run has the same value of."""
    differ: dict[str, list[V | None]] = {}
    same: dict[str, V] = {}
    for key in sorted({k for values in per_run for k in values}):
        found = [values.get(key) for values in per_run]
        first = found[0]
        if _same(found) and first is not None:
            same[key] = first
        else:
            differ[key] = found
    return differ, same


def compare_runs(runs: Sequence[RunInfo]) -> RunComparison:
    params, same_params = _split([r.params for r in runs])
    metrics, same_metrics = _split([r.metrics for r in runs])
    return RunComparison(
        run_ids=[r.id for r in runs],
        params=params,
        metrics=metrics,
        same_params=same_params,
        same_metrics=same_metrics,
    )
