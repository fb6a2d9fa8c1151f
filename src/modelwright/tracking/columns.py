"""The columns a runs table can show: the keys of the params, tags and metrics of an
experiment's runs (or a workspace's), without reading a single value.

Only the newest ``SCANNED_RUNS`` runs are looked at: the runs of an experiment mostly log the
same keys, and reading every key of every run of a large experiment (200,000 rows for 10,000
runs of 20 metrics) would cost a page of the runs table more than the table itself."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from modelwright.core.context import Context
from modelwright.core.lookup import get_workspace
from modelwright.store import schema
from modelwright.tracking import models as m
from modelwright.tracking._lookup import readable_environments

__all__ = ["SCANNED_RUNS", "run_columns"]

SCANNED_RUNS = 1_000

_TABLES: dict[str, Any] = {
    "metrics": schema.LatestMetric,
    "params": schema.RunParam,
    "tags": schema.RunTag,
}


def run_columns(ctx: Context, req: m.ListRunColumns) -> m.RunColumns:
    ws = get_workspace(ctx, req.workspace)
    readable = readable_environments(ctx, ws)
    R, E = schema.Run, schema.Experiment
    newest = (
        select(R.id)
        .join(E, E.id == R.experiment_id)
        .where(E.workspace_id == ws.id, R.environment_id.in_(readable))
        .order_by(R.started_at.desc())
        .limit(SCANNED_RUNS)
    )
    if req.experiment:
        newest = newest.where(E.name == req.experiment)
    runs = list(ctx.session.scalars(newest))  # once, not once a kind
    found: dict[str, list[str]] = {}
    for kind, table in _TABLES.items():
        query = (
            select(table.key)
            .distinct()
            .where(table.run_id.in_(runs))
            .order_by(table.key)
            .limit(m.MAX_COLUMNS)
        )
        found[kind] = list(ctx.session.scalars(query))
    return m.RunColumns(**found)
