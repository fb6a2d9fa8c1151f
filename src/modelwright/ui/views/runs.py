"""Workspaces, the runs table, a run and its metric series."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import numpy as np
from starlette.responses import JSONResponse, RedirectResponse, Response

from modelwright.api import operations as ops
from modelwright.api import tracking as tr_ops
from modelwright.errors import InvalidInput, ModelwrightError
from modelwright.ui.views._base import Endpoint, Me, column_value, signed_in

__all__ = ["ROUTES"]

# Columns shown by default: the first of each kind on the page, so a wide experiment opens
# readable; the chooser adds the rest.
_DEFAULT_COLUMNS = 6
_PAGE_SIZES = (25, 50, 100, 250, 1000)
_MAX_POINTS = 4000


@signed_in
async def home(me: Me) -> Response:
    workspaces = (await me.call(ops.LIST_WORKSPACES, limit=1000)).items
    return me.render("home.html", workspaces=workspaces)


@signed_in
async def runs(me: Me) -> Response:
    workspace = me.request.path_params["workspace"]
    q = me.request.query_params
    view = {
        k: q.get(k, "")
        for k in ("experiment", "filter", "order", "cols", "limit", "children", "page_token")
    }
    # The column chooser sends one ``col`` a column; links carry them joined as ``cols``.
    view["cols"] = view["cols"] or ",".join(q.getlist("col"))
    experiments = (await me.call(tr_ops.LIST_EXPERIMENTS, workspace=workspace, limit=1000)).items
    error: ModelwrightError | None = None
    found: list[Any] = []
    next_token = None
    try:
        result = await me.call(
            tr_ops.SEARCH_RUNS,
            workspace=workspace,
            experiment=view["experiment"] or None,
            filter=view["filter"],
            order_by=[view["order"]] if view["order"] else [],
            max_results=view["limit"] or 50,
            page_token=view["page_token"] or None,
            include_children=view["children"] == "1",
        )
        found, next_token = result.items, result.next_page_token
    except InvalidInput as exc:
        error = exc
    metric_keys = sorted({k for r in found for k in r.metrics})
    param_keys = sorted({k for r in found for k in r.params})
    every = [f"metrics.{k}" for k in metric_keys] + [f"params.{k}" for k in param_keys]
    if view["cols"]:
        columns = [c for c in view["cols"].split(",") if c]
    else:
        columns = [f"metrics.{k}" for k in metric_keys[:_DEFAULT_COLUMNS]]
        columns += [f"params.{k}" for k in param_keys[:_DEFAULT_COLUMNS]]
    return me.render(
        "runs.html",
        400 if error else 200,
        workspace=workspace,
        experiments=experiments,
        view=view,
        runs=found,
        next_token=next_token,
        columns=columns,
        every_column=sorted(set(every) | set(columns)),
        page_sizes=_PAGE_SIZES,
        error=error,
        cell=column_value,
    )


@signed_in
async def run_page(me: Me) -> Response:
    run = await me.call(tr_ops.GET_RUN, run_id=me.request.path_params["run_id"])
    return me.render("run.html", run=run)


@signed_in
async def run_state(me: Me) -> Response:
    run = await me.call(tr_ops.GET_RUN, run_id=me.request.path_params["run_id"])
    return me.render("_run_state.html", run=run)


@signed_in
async def metric_points(me: Me) -> Response:
    """One metric's series, at most ``points`` of them: the smallest and the largest value
    of each bucket, in step order, so a spike survives however long the series."""
    params = me.request.path_params
    try:
        points = max(2, min(int(me.request.query_params.get("points", "1000")), _MAX_POINTS))
    except ValueError:
        raise InvalidInput("points: expected a whole number") from None
    history = await me.call(tr_ops.METRIC_HISTORY, run_id=params["run_id"], key=params["key"])
    steps, values = _downsample(np.asarray(history.steps), np.asarray(history.values), points)
    body = {"key": history.key, "steps": steps, "values": values, "total": len(history.steps)}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def _downsample(steps: Any, values: Any, points: int) -> tuple[list[int], list[float | None]]:
    order = np.argsort(steps, kind="stable")
    steps, values = steps[order], values[order].astype(float)
    if len(steps) > points:
        buckets = np.array_split(np.arange(len(steps)), points // 2)
        keep: list[int] = []
        for b in buckets:
            v = values[b]
            if not np.isfinite(v).any():
                keep.append(int(b[0]))
                continue
            low, high = int(b[np.nanargmin(v)]), int(b[np.nanargmax(v)])
            keep.extend(sorted({low, high}))
        steps, values = steps[keep], values[keep]
    # JSON has no NaN or infinity: a gap in the chart.
    shown = [float(v) if np.isfinite(v) else None for v in values]
    return [int(s) for s in steps], shown


@signed_in
async def kill_run(me: Me) -> Response:
    await me.form()
    run_id = me.request.path_params["run_id"]
    await me.call(tr_ops.KILL_RUN, run_id=run_id)
    return RedirectResponse(f"/runs/{quote(run_id)}", 303)


ROUTES: list[tuple[str, Endpoint, list[str]]] = [
    ("/", home, ["GET"]),
    ("/w/{workspace}/runs", runs, ["GET"]),
    ("/runs/{run_id}", run_page, ["GET"]),
    ("/runs/{run_id}/state", run_state, ["GET"]),
    ("/runs/{run_id}/metrics/{key:path}", metric_points, ["GET"]),
    ("/runs/{run_id}/kill", kill_run, ["POST"]),
]
