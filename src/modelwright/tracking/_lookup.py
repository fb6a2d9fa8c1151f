"""Finding a run the caller may read or write, and rendering runs (shared by the tracking
operations and the services that record into runs)."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import false, select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.lookup import require_member
from modelwright.core.models import from_row
from modelwright.errors import Conflict, InvalidInput, NotFound
from modelwright.store import schema
from modelwright.tracking import models as m

__all__ = [
    "chunks",
    "find_run",
    "get_run",
    "lost_before",
    "readable_environments",
    "readable_run",
    "run_detail",
    "run_info",
    "run_info_of",
    "run_infos",
    "run_scope",
    "writable_run",
]


_KINDS: dict[str, Any] = {
    "params": schema.RunParam,
    "tags": schema.RunTag,
    "metrics": schema.LatestMetric,
}


def get_run(ctx: Context, run_id: str) -> schema.Run:
    """The run ``run_id`` names (see ``find_run``), or ``NotFound``."""
    run = find_run(ctx, run_id)
    if run is None:
        raise NotFound(f"run '{run_id}' not found", details={"run_id": run_id})
    return run


# Ids are random (uuid4): two runs sharing an 8-character prefix are rare, more than this
# many in an ambiguity rarer still; the error shows the first few.
_MAX_CANDIDATES = 20


def find_run(ctx: Context, run_id: str, *, workspace_id: int | None = None) -> schema.Run | None:
    """The run whose id is ``run_id``, else the one run the caller may read whose id starts
    with it (``m.MIN_RUN_PREFIX`` characters or more), optionally only in ``workspace_id``.

    A prefix that several readable runs share is ``InvalidInput`` listing them; runs the
    caller may not read are never candidates, so their ids do not leak.
    """
    run = ctx.session.get(schema.Run, run_id)  # the whole id: one primary-key lookup
    if run is not None or len(run_id) < m.MIN_RUN_PREFIX or len(run_id) >= 32:
        if run is not None and workspace_id is not None:
            return run if run.experiment.workspace_id == workspace_id else None
        return run
    # A range over the primary key's index (bytewise on SQLite, and in PostgreSQL's C
    # collation), with LIKE keeping it exact where another collation orders differently.
    upper = run_id[:-1] + chr(ord(run_id[-1]) + 1)
    q = (
        select(schema.Run)
        .where(
            schema.Run.id >= run_id,
            schema.Run.id < upper,
            schema.Run.id.startswith(run_id, autoescape=True),
        )
        .order_by(schema.Run.id)
        .limit(_MAX_CANDIDATES * 5)
    )
    if workspace_id is not None:
        q = q.join(schema.Experiment).where(schema.Experiment.workspace_id == workspace_id)
    found = [r for r in ctx.session.scalars(q) if ctx.allowed(Action.DATA_READ, *run_scope(r))]
    if len(found) > 1:
        shown = [r.id for r in found[:_MAX_CANDIDATES]]
        raise InvalidInput(
            f"run id '{run_id}' is ambiguous: it starts the ids of {len(found)} runs "
            f"({', '.join(shown)}{', ...' if len(found) > len(shown) else ''}); "
            "give more of the id",
            details={"run_id": run_id, "candidates": shown},
        )
    return found[0] if found else None


def run_scope(run: schema.Run) -> tuple[str, str]:
    return run.experiment.workspace.name, run.environment.name


def readable_environments(ctx: Context, ws: schema.Workspace) -> list[int]:
    """The ids of the workspace's environments whose runs the caller may read; refused when
    there is none (an outsider is told the workspace is not found)."""
    readable = [e.id for e in ws.environments if ctx.allowed(Action.DATA_READ, ws.name, e.name)]
    if not readable:
        require_member(ctx, ws.name)
        ctx.require(Action.DATA_READ, ws.name)
    return readable


def readable_run(ctx: Context, run_id: str) -> schema.Run:
    """The run ``run_id`` (or a unique prefix of it) names, if the caller may read it."""
    run = get_run(ctx, run_id)
    ws, env = run_scope(run)
    if not ctx.allowed(Action.DATA_READ, ws, env):
        # Same answer as for a missing run, so run ids do not leak to outsiders.
        if not ctx.is_member(ws):
            raise NotFound(f"run '{run_id}' not found", details={"run_id": run_id})
        ctx.require(Action.DATA_READ, ws, env)
    return run


def writable_run(ctx: Context, run_id: str) -> schema.Run:
    run = readable_run(ctx, run_id)
    ws, env = run_scope(run)
    ctx.require(Action.PIPELINE_RUN, ws, env)
    if run.deleted_at is not None:
        raise Conflict(
            f"run '{run_id}' is deleted: nothing more can be logged to it",
            details={"run_id": run_id, "deleted_at": run.deleted_at.isoformat()},
        )
    if run.status != "running":
        raise Conflict(
            f"run '{run_id}' is {run.status}: nothing more can be logged to it",
            details={"run_id": run_id, "status": run.status},
        )
    return run


def lost_before(ctx: Context) -> datetime:
    """Running runs whose last heartbeat is older than this are shown as lost."""
    return utcnow() - timedelta(seconds=ctx.settings.run_lost_after)


def run_infos(
    ctx: Context, runs: list[schema.Run], columns: Mapping[str, Collection[str]] | None = None
) -> list[m.RunInfo]:
    """The runs with their params, tags and latest metrics; ``columns``: only these keys of
    each kind (``{"metrics": ["auc"], "params": ["depth"]}``, a kind left out has none), so
    a table of a few columns over runs of hundreds reads only what it shows."""
    cutoff = lost_before(ctx)
    ids = [r.id for r in runs]
    values: dict[str, dict[str, dict[str, Any]]] = {kind: {i: {} for i in ids} for kind in _KINDS}
    for kind, table in _KINDS.items():
        keys = None if columns is None else sorted(set(columns.get(kind, ())))
        if keys == []:
            continue
        # Plain rows, not entities: a page of runs has tens of thousands of these.
        nan = table.is_nan if kind == "metrics" else false()
        for chunk in chunks(ids, 500):
            query = select(table.run_id, table.key, table.value, nan).where(table.run_id.in_(chunk))
            if keys is not None:
                query = query.where(table.key.in_(keys))
            for run_id, key, value, is_nan in ctx.session.execute(query):
                values[kind][run_id][key] = math.nan if is_nan else value
    return [
        run_info_of(
            r, values["params"][r.id], values["tags"][r.id], values["metrics"][r.id], cutoff
        )
        for r in runs
    ]


def run_info_of(
    r: schema.Run,
    params: dict[str, str],
    tags: dict[str, str],
    metrics: dict[str, float],
    cutoff: datetime | None,
) -> m.RunInfo:
    """``cutoff``: a running run whose last heartbeat is older is shown as lost."""
    status = r.status
    if status == "running" and cutoff is not None:
        status = "lost" if (r.heartbeat_at or r.started_at) < cutoff else status
    return from_row(
        m.RunInfo,
        r,
        workspace=r.experiment.workspace.name,
        environment=r.environment.name,
        experiment=r.experiment.name,
        status=status,
        params=params,
        tags=tags,
        metrics=metrics,
    )


def run_info(ctx: Context, run: schema.Run) -> m.RunInfo:
    return run_infos(ctx, [run])[0]


def run_detail(ctx: Context, run: schema.Run) -> m.RunDetail:
    info = run_info(ctx, run)
    artifacts = ctx.session.scalars(
        select(schema.RunArtifact)
        .where(schema.RunArtifact.run_id == run.id)
        .order_by(schema.RunArtifact.path)
    )
    return m.RunDetail(
        **info.model_dump(),
        snapshot=run.snapshot,
        artifacts=[m.ArtifactFile(path=a.path, digest=a.digest, size=a.size) for a in artifacts],
    )


def chunks(items: list[Any], n: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]
