"""Recording many child runs of one run at once: a pipeline's nodes, in one statement per table.

The pipeline runner sends the nodes that finished since its previous call in one request
(``pipelines.service.record_pipeline_run``); they become child runs of the pipeline's run
here, beside the other writes to the tracking tables, with the same checks as one run's
writes. Core inserts of the tables, not the ORM entities: the ORM's bulk path does Python
work per row that a pipeline's bookkeeping would pay on every node.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table, delete, insert, select, tuple_, update

from modelwright.core.context import Context, utcnow
from modelwright.core.lineage import Edge, add_edges
from modelwright.errors import Conflict, NotFound
from modelwright.objects.service import require_nameable
from modelwright.store import schema

__all__ = ["ChildRun", "RunFile", "heartbeat_with_children", "record_child_runs", "set_snapshot"]

_RUNS, _TAGS, _PARAMS, _METRICS, _LATEST, _ARTIFACTS = (
    cast(Table, t.__table__)
    for t in (
        schema.Run,
        schema.RunTag,
        schema.RunParam,
        schema.RunMetric,
        schema.LatestMetric,
        schema.RunArtifact,
    )
)


class RunFile(NamedTuple):
    """An artifact of a child run: a file already in the artifact store."""

    path: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ChildRun:
    """A child run that has ended: created as it is, or, ``started``, a run started earlier
    (its tags, params, latest metrics and artifacts are replaced by these)."""

    run_id: str
    name: str
    status: str
    started_at: datetime
    ended_at: datetime
    error: str = ""
    started: bool = False
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)  # one point each, at its end
    files: Sequence[RunFile] = ()  # its outputs (lineage edges run → artifact)
    inputs: Sequence[str] = ()  # digests of the artifacts it read (edges artifact → run)


def heartbeat_with_children(ctx: Context, run: schema.Run) -> None:
    """A heartbeat of ``run`` and of its running child runs (a pipeline's nodes running now)."""
    now = utcnow()
    run.heartbeat_at = now
    ctx.session.execute(
        update(_RUNS)
        .where(_RUNS.c.parent_id == run.id, _RUNS.c.status == "running")
        .values(heartbeat_at=now)
    )


def set_snapshot(run: schema.Run, snapshot: dict[str, Any]) -> None:
    """The environment a run started in is set once: by its start, or by a later record."""
    if run.snapshot and run.snapshot != snapshot:
        raise Conflict(
            f"run '{run.id}' has an environment snapshot already",
            details={"run_id": run.id},
        )
    run.snapshot = snapshot


def record_child_runs(ctx: Context, parent: schema.Run, children: Sequence[ChildRun]) -> None:
    """Record ``children`` (distinct run ids) under ``parent``, whose writer the caller checked
    (``service.writable_run``): one insert per table for the whole batch. The artifacts they
    name must be nameable in the parent's environment; a started child must be a running
    child of ``parent``, a new one must not exist. The caller audits the batch."""
    s = ctx.session
    require_nameable(ctx, [f.digest for c in children for f in c.files], parent.environment)
    ids = [c.run_id for c in children]
    existing = {r.id: r for r in s.scalars(select(schema.Run).where(schema.Run.id.in_(ids))).all()}
    new_runs: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    params: list[dict[str, Any]] = []
    metrics: list[dict[str, Any]] = []
    latest: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    edges: list[Edge] = []
    started: set[str] = set()
    for c in children:
        row = existing.get(c.run_id)
        # A node that logged to its run started it while it ran, which the record may not
        # know (its worker died): a running child of this run with this id is that run.
        if c.started or (
            row is not None and row.parent_id == parent.id and row.status == "running"
        ):
            _end_started(c, row, parent)
            started.add(c.run_id)
        elif row is not None:
            raise Conflict(
                f"run '{c.run_id}' of node '{c.name}' exists already",
                details={"run_id": c.run_id},
            )
        else:
            new_runs.append(_new_run(ctx, c, parent))
        rid = c.run_id
        tags += [{"run_id": rid, "key": k, "value": v} for k, v in c.tags.items()]
        params += [{"run_id": rid, "key": k, "value": v} for k, v in c.params.items()]
        stamp = int(c.ended_at.timestamp() * 1000)
        for k, v in c.metrics.items():
            nan = math.isnan(v)
            point = {"run_id": rid, "key": k, "value": 0.0 if nan else v, "is_nan": nan}
            metrics.append(point | {"step": 0, "timestamp": stamp})
            latest.append(point | {"step": 0, "timestamp": stamp})
        files += [
            {"run_id": rid, "path": f.path, "digest": f.digest, "size": f.size} for f in c.files
        ]
        edges += [("run", rid, "artifact", f.digest, "output") for f in c.files]
        edges += [("artifact", d, "run", rid, "input") for d in c.inputs]
    if started:
        # A started run may have logged some of these already (its tags at start): the
        # record replaces them.
        for table, rows, name in (
            (_TAGS, tags, "key"),
            (_PARAMS, params, "key"),
            (_LATEST, latest, "key"),
            (_ARTIFACTS, files, "path"),
        ):
            keys = [(r["run_id"], r[name]) for r in rows if r["run_id"] in started]
            if keys:
                s.execute(delete(table).where(tuple_(table.c.run_id, table.c[name]).in_(keys)))
    if new_runs:
        s.execute(insert(_RUNS), new_runs)
    for table, rows in (
        (_TAGS, tags),
        (_PARAMS, params),
        (_METRICS, metrics),
        (_LATEST, latest),
        (_ARTIFACTS, files),
    ):
        if rows:
            s.execute(insert(table), rows)
    add_edges(ctx, parent.experiment.workspace_id, edges)


def _end_started(c: ChildRun, row: schema.Run | None, parent: schema.Run) -> None:
    if row is None or row.parent_id != parent.id:
        raise NotFound(
            f"run '{c.run_id}' of node '{c.name}' is not a child of run '{parent.id}'",
            details={"run_id": c.run_id},
        )
    if row.status != "running":
        raise Conflict(
            f"run '{c.run_id}' of node '{c.name}' already ended as {row.status}",
            details={"run_id": c.run_id, "status": row.status},
        )
    row.status, row.ended_at, row.error = c.status, c.ended_at, c.error


def _new_run(ctx: Context, c: ChildRun, parent: schema.Run) -> dict[str, Any]:
    return {
        "id": c.run_id,
        "experiment_id": parent.experiment_id,
        "environment_id": parent.environment_id,
        "parent_id": parent.id,
        "name": c.name,
        "status": c.status,
        "created_by": ctx.caller.name,
        "started_at": c.started_at,
        "ended_at": c.ended_at,
        "error": c.error,
        "snapshot": {},
    }
