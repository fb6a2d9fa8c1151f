"""The columns a runs table can show: the keys of the params, tags and metrics of an
experiment's runs (or a workspace's), without reading a single value."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from modelwright.core.context import Context
from modelwright.core.lookup import get_workspace
from modelwright.store import schema
from modelwright.tracking import models as m
from modelwright.tracking._lookup import readable_environments

__all__ = ["run_columns"]

_TABLES: dict[str, Any] = {
    "metrics": schema.LatestMetric,
    "params": schema.RunParam,
    "tags": schema.RunTag,
}


def run_columns(ctx: Context, req: m.ListRunColumns) -> m.RunColumns:
    ws = get_workspace(ctx.session, req.workspace)
    readable = readable_environments(ctx, ws)
    R, E = schema.Run, schema.Experiment
    found: dict[str, list[str]] = {}
    for kind, table in _TABLES.items():
        query = (
            select(table.key)
            .distinct()
            .join(R, R.id == table.run_id)
            .join(E, E.id == R.experiment_id)
            .where(E.workspace_id == ws.id, R.environment_id.in_(readable))
            .order_by(table.key)
            .limit(m.MAX_COLUMNS)
        )
        if req.experiment:
            query = query.where(E.name == req.experiment)
        found[kind] = list(ctx.session.scalars(query))
    return m.RunColumns(**found)
