"""Workspaces, the runs table, a run and its metric series."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

from starlette.responses import JSONResponse, RedirectResponse, Response

from modelwright.api import operations as ops
from modelwright.api import tracking as tr_ops
from modelwright.errors import InvalidInput, ModelwrightError
from modelwright.ui.views._base import Endpoint, Me, column_value, signed_in

__all__ = ["ROUTES"]

# Columns shown by default: the first of each kind on the page, so a wide experiment opens
# readable; the chooser adds the rest.
_DEFAULT_COLUMNS = 6
_CHOOSABLE = ("metrics.", "params.", "tags.")
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
    keys = await me.call(
        tr_ops.RUN_COLUMNS, workspace=workspace, experiment=view["experiment"] or None
    )
    every = [f"metrics.{k}" for k in keys.metrics] + [f"params.{k}" for k in keys.params]
    if view["cols"]:
        columns = [c for c in view["cols"].split(",") if c]
    else:
        columns = [f"metrics.{k}" for k in keys.metrics[:_DEFAULT_COLUMNS]]
        columns += [f"params.{k}" for k in keys.params[:_DEFAULT_COLUMNS]]
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
            # Only the values the table shows, however many columns the runs have.
            columns=[c for c in columns if c.startswith(_CHOOSABLE)],
        )
        found, next_token = result.items, result.next_page_token
    except InvalidInput as exc:
        error = exc
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
    """One metric's series, at most ``points`` of them, thinned by the database (each
    bucket of steps its smallest and largest value, so a spike survives)."""
    params = me.request.path_params
    try:
        points = max(2, min(int(me.request.query_params.get("points", "1000")), _MAX_POINTS))
    except ValueError:
        raise InvalidInput("points: expected a whole number") from None
    history = await me.call(
        tr_ops.METRIC_HISTORY, run_id=params["run_id"], key=params["key"], max_points=points
    )
    # JSON has no NaN or infinity: a gap in the chart.
    values = [v if math.isfinite(v) else None for v in history.values]
    body = {"key": history.key, "steps": history.steps, "values": values, "total": history.total}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


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
