"""Comparing runs: what differs (params and metrics), overlaid metric charts, a scatter of
two columns and parallel coordinates of the numeric params against a metric.

The charts are SVG drawn by the template from coordinates computed here (a hundred runs are
a hundred points or lines: no script needed), the overlaid series by the page's script."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from modelwright.api import tracking as tr_ops
from modelwright.errors import InvalidInput
from modelwright.ui.views._base import Endpoint, Me, column_value, signed_in

__all__ = ["ROUTES"]

_MAX_RUNS = 100
_MAX_AXES = 8
_OVERLAID = 20  # series on one chart before it stops being readable
W, H, PAD = 640, 360, 40


@dataclass
class Point:
    x: float
    y: float
    label: str
    href: str


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _scale(values: list[float], low_px: float, high_px: float) -> list[float]:
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    return [low_px + (v - lo) / span * (high_px - low_px) for v in values]


def _scatter(runs: list[Any], x: str, y: str) -> list[Point]:
    pairs = [(r, _number(column_value(r, x)), _number(column_value(r, y))) for r in runs]
    kept = [(r, a, b) for r, a, b in pairs if a is not None and b is not None]
    if not kept:
        return []
    xs = _scale([a for _, a, _ in kept], PAD, W - PAD)
    ys = _scale([b for _, _, b in kept], H - PAD, PAD)
    return [
        Point(px, py, f"{r.name or r.id[:8]}: {x}={a:g}, {y}={b:g}", f"/runs/{r.id}")
        for (r, a, b), px, py in zip(kept, xs, ys, strict=True)
    ]


def _parallel(runs: list[Any], axes: list[str]) -> list[tuple[str, str]]:
    """One polyline a run across ``axes`` (each scaled to its own range); runs missing a
    value on an axis are left out."""
    columns = [[_number(column_value(r, a)) for r in runs] for a in axes]
    complete = [i for i in range(len(runs)) if all(c[i] is not None for c in columns)]
    if len(axes) < 2 or not complete:
        return []
    step = (W - 2 * PAD) / (len(axes) - 1)
    scaled = [_scale([float(c[i] or 0.0) for i in complete], H - PAD, PAD) for c in columns]
    lines = []
    for j, i in enumerate(complete):
        points = " ".join(f"{PAD + k * step:.1f},{scaled[k][j]:.1f}" for k in range(len(axes)))
        lines.append((points, runs[i].name or runs[i].id[:8]))
    return lines


def _valued(run: Any, n: int, diff: Any) -> Any:
    """``run`` with its params and metrics as the comparison's ``n``-th run has them."""
    params = {k: v[n] for k, v in diff.params.items() if v[n] is not None}
    metrics = {k: v[n] for k, v in diff.metrics.items() if v[n] is not None}
    return run.model_copy(
        update={
            "params": {**diff.same_params, **params},
            "metrics": {**diff.same_metrics, **metrics},
        }
    )


@signed_in
async def compare(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    q = me.request.query_params
    ids = list(dict.fromkeys(i for i in q.getlist("run") if i))
    if len(ids) > _MAX_RUNS:
        raise InvalidInput(f"run: at most {_MAX_RUNS} runs compare on one page, not {len(ids)}")
    diff = await me.call(tr_ops.COMPARE_RUNS, run_ids=ids)
    listed = ", ".join("'" + i.replace("'", "") + "'" for i in diff.run_ids)
    # Names and attributes only: the values are the comparison's, not read twice.
    found = await me.call(
        tr_ops.SEARCH_RUNS,
        workspace=workspace,
        filter=f"run_id in ({listed})",
        max_results=_MAX_RUNS,
        include_children=True,
        columns=[],
    )
    by_id = {r.id: r for r in found.items}
    runs = [_valued(by_id[i], n, diff) for n, i in enumerate(diff.run_ids) if i in by_id]
    metric_keys = sorted({k for r in runs for k in r.metrics})
    numeric = [
        f"params.{k}"
        for k in diff.params
        if all(_number(v) is not None for v in diff.params[k] if v is not None)
    ]
    columns = numeric + [f"metrics.{k}" for k in metric_keys]
    metric = q.get("metric") or (
        next(iter(diff.metrics), None) or (metric_keys[0] if metric_keys else "")
    )
    x = q.get("x") or (numeric[0] if numeric else (columns[0] if columns else ""))
    y = q.get("y") or (f"metrics.{metric}" if metric else x)
    axes = [*numeric[: _MAX_AXES - 1], f"metrics.{metric}"] if metric else numeric[:_MAX_AXES]
    series = (
        [
            {"label": r.name or r.id[:8], "url": f"/runs/{r.id}/metrics/{quote(metric, safe='')}"}
            for r in runs[:_OVERLAID]
        ]
        if metric
        else []
    )
    return me.render(
        "compare.html",
        workspace=workspace,
        runs=runs,
        diff=diff,
        names={r.id: r.name or r.id[:8] for r in runs},
        metric=metric,
        metric_keys=metric_keys,
        columns=columns,
        x=x,
        y=y,
        scatter=_scatter(runs, x, y) if x and y else [],
        axes=axes,
        parallel=_parallel(runs, axes),
        series=json.dumps(series),
        overlaid=min(len(runs), _OVERLAID),
        size={"w": W, "h": H, "pad": PAD},
    )


ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/w/{workspace}/compare", compare, ["GET"]),
]
