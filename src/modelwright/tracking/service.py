"""Tracking operations. Each function is one operation: ``(ctx, request) -> response``.

Who may do what: starting, logging to and killing runs needs ``pipeline.run`` in the run's
environment; reading runs needs ``data.read`` there. Run starts, ends, kills and artifacts
are audited; metric, param and tag batches are not (the run itself is their record, and an
audit row per batch would dwarf the data).

A run's process shows it is alive by writing to it (``heartbeat_at``): its start, its
batches (an empty batch is a heartbeat), its pipeline records. A running run silent for
longer than ``Settings.run_lost_after`` is shown as ``lost``; nothing is stored for that, so
a run that was only cut off for a while is running again with its next batch.
"""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import cast

from sqlalchemy import Table, insert, select, update

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import keyset_page
from modelwright.core.lineage import add_edges
from modelwright.core.lookup import get_environment, get_workspace
from modelwright.core.pages import Page
from modelwright.errors import AlreadyExists, Conflict, InvalidInput
from modelwright.objects.service import require_nameable
from modelwright.store import schema
from modelwright.tracking import models as m
from modelwright.tracking._lookup import (
    find_run,
    get_run,
    lost_before,
    readable_environments,
    readable_run,
    run_detail,
    run_info,
    run_info_of,
    run_infos,
    run_scope,
    writable_run,
)
from modelwright.tracking.experiments import (
    create_experiment,
    experiment_row,
    in_view,
    list_experiments,
)
from modelwright.tracking.params import check_unchanged
from modelwright.tracking.search import (
    apply_filter,
    base_query,
    order_keys,
    parse_columns,
    parse_filter,
)
from modelwright.tracking.series import outline, series

# The operations table and other services name runs' and experiments' operations here.
__all__ = [
    "create_experiment",
    "end_run",
    "end_run_row",
    "find_run",
    "get_run",
    "get_run_detail",
    "kill_run",
    "list_experiments",
    "log_artifacts",
    "log_artifacts_row",
    "log_batch",
    "log_params_row",
    "lost_before",
    "metric_history",
    "readable_run",
    "run_detail",
    "run_info",
    "search_runs",
    "start_run",
    "touch",
    "writable_run",
]


def start_run(ctx: Context, req: m.StartRun) -> m.RunDetail:
    ctx.require(Action.PIPELINE_RUN, req.workspace, req.environment)
    env = get_environment(ctx, req.workspace, req.environment)
    parent_id = None
    if req.parent_id is not None:
        parent = readable_run(ctx, req.parent_id)
        parent_id = parent.id  # the whole id, when a prefix named it
        if parent.environment_id != env.id:
            raise InvalidInput(
                f"parent_id: run '{parent_id}' is in another environment",
                details={"field": "parent_id"},
            )
    if req.run_id is not None and ctx.session.get(schema.Run, req.run_id) is not None:
        raise AlreadyExists(
            f"run_id: run '{req.run_id}' exists already", details={"field": "run_id"}
        )
    exp = experiment_row(ctx, env.workspace, req.experiment)
    now = utcnow()
    run = schema.Run(
        id=req.run_id or uuid.uuid4().hex,
        experiment=exp,
        environment=env,
        parent_id=parent_id,
        name=req.name,
        status="running",
        created_by=ctx.caller.name,
        started_at=now,
        ended_at=None,
        heartbeat_at=now,
        error="",
        snapshot=req.snapshot,
    )
    ctx.session.add(run)
    ctx.session.flush()
    if req.tags:
        ctx.session.execute(
            insert(schema.RunTag),
            [{"run_id": run.id, "key": k, "value": v} for k, v in req.tags.items()],
        )
    ctx.audit(
        "run.start",
        workspace=req.workspace,
        environment=req.environment,
        target=f"run/{run.id}",
        after={"experiment": req.experiment, "name": req.name, "parent_id": parent_id},
    )
    # Nothing but its tags was logged to the new run: its detail needs no query.
    return m.RunDetail(
        **run_info_of(run, {}, dict(req.tags), {}, None).model_dump(),
        snapshot=run.snapshot,
        artifacts=[],
    )


def end_run(ctx: Context, req: m.EndRun) -> m.RunInfo:
    run = readable_run(ctx, req.run_id)
    ws, env = run_scope(run)
    ctx.require(Action.PIPELINE_RUN, ws, env)
    end_run_row(ctx, run, req.status, req.error)
    return run_info(ctx, run)


def end_run_row(ctx: Context, run: schema.Run, status: m.RunStatus, error: str) -> None:
    """End ``run``, whose writer the caller checked (``end_run`` without rendering it)."""
    if run.status != "running":
        if run.status == status:
            return  # ending twice the same way is harmless
        raise Conflict(
            f"run '{run.id}' already ended as {run.status}",
            details={"run_id": run.id, "status": run.status},
        )
    ws, env = run_scope(run)
    run.status = status
    run.ended_at = utcnow()
    run.error = error
    ctx.session.flush()
    outline(ctx, run.id)  # it takes no more points: its long series are thinned once, now
    ctx.audit(
        "run.end",
        workspace=ws,
        environment=env,
        target=f"run/{run.id}",
        before={"status": "running"},
        after={"status": status, "error": error[:500]},
    )


def kill_run(ctx: Context, req: m.RunRef) -> m.RunInfo:
    """Mark a running (or lost) run killed, with its running descendants (a pipeline's
    nodes): for runs whose process died, or that should stop being written to."""
    run = readable_run(ctx, req.run_id)
    ws, env = run_scope(run)
    ctx.require(Action.PIPELINE_RUN, ws, env)
    if run.status == "killed":
        return run_info(ctx, run)  # killing again changes nothing
    if run.status != "running":
        raise Conflict(
            f"run '{run.id}' already ended as {run.status}: only a running run can be killed",
            details={"run_id": run.id, "status": run.status},
        )
    now = utcnow()
    last = run.heartbeat_at or run.started_at
    silent = (now - last).total_seconds()
    shown = "lost" if silent > ctx.settings.run_lost_after else "running"
    why = f"killed by '{ctx.caller.name}'" + (
        f" (no heartbeat for {silent:.0f} s: its process is gone)" if shown == "lost" else ""
    )
    run.status, run.ended_at, run.error = "killed", now, why
    children: list[str] = []
    parents = [run.id]
    while parents:  # the running descendants, generation by generation
        rows = list(
            ctx.session.scalars(
                select(schema.Run).where(
                    schema.Run.parent_id.in_(parents), schema.Run.status == "running"
                )
            )
        )
        for child in rows:
            child.status, child.ended_at = "killed", now
            child.error = f"killed with run '{run.id}' by '{ctx.caller.name}'"
        children += [c.id for c in rows]
        parents = [c.id for c in rows]
    ctx.session.flush()
    for ended in (run.id, *children):
        outline(ctx, ended)
    ctx.audit(
        "run.kill",
        workspace=ws,
        environment=env,
        target=f"run/{run.id}",
        before={"status": shown, "heartbeat_at": last.isoformat()},
        after={"status": "killed", "children": children[:100]},
    )
    return run_info(ctx, run)


def touch(run: schema.Run) -> None:
    """A heartbeat of ``run``: its process is alive. Written at most once a second (a
    granularity far below any lost-after), not for every batch of a fast logger."""
    now = utcnow()
    if run.heartbeat_at is None or now - run.heartbeat_at >= _HEARTBEAT_GRANULARITY:
        run.heartbeat_at = now


_HEARTBEAT_GRANULARITY = timedelta(seconds=1)


def log_batch(ctx: Context, req: m.LogBatch) -> m.LogBatchResult:
    """Store a batch; an empty one is a heartbeat."""
    run = writable_run(ctx, req.run_id)
    touch(run)
    if req.params:
        log_params_row(ctx, run, req.params)
    if req.tags:
        _upsert_tags(ctx, run.id, req.tags)
    n_metrics = 0
    if req.metrics is not None and req.metrics.keys:
        n_metrics = _insert_metrics(ctx, run.id, req.metrics)
    return m.LogBatchResult(metrics=n_metrics, params=len(req.params), tags=len(req.tags))


def log_params_row(ctx: Context, run: schema.Run, params: dict[str, str]) -> None:
    """Log ``params`` to ``run``, whose writer the caller checked; params are immutable."""
    s = ctx.session
    if params:
        existing = dict(
            s.execute(
                select(schema.RunParam.key, schema.RunParam.value).where(
                    schema.RunParam.run_id == run.id, schema.RunParam.key.in_(list(params))
                )
            ).all()
        )
        check_unchanged(run.id, existing, params)
        new = [
            {"run_id": run.id, "key": k, "value": v} for k, v in params.items() if k not in existing
        ]
        if new:
            s.execute(insert(schema.RunParam), new)


def _upsert_tags(ctx: Context, run_id: str, tags: dict[str, str]) -> None:
    s = ctx.session
    existing = set(
        s.scalars(
            select(schema.RunTag.key).where(
                schema.RunTag.run_id == run_id, schema.RunTag.key.in_(list(tags))
            )
        )
    )
    for key in existing:
        s.execute(
            update(schema.RunTag)
            .where(schema.RunTag.run_id == run_id, schema.RunTag.key == key)
            .values(value=tags[key])
        )
    new = [{"run_id": run_id, "key": k, "value": v} for k, v in tags.items() if k not in existing]
    if new:
        s.execute(insert(schema.RunTag), new)


_METRICS_TABLE = cast(Table, schema.RunMetric.__table__)


def _insert_metrics(ctx: Context, run_id: str, batch: m.MetricBatch) -> int:
    s = ctx.session
    rows = []
    latest: dict[str, tuple[int, int, float, bool]] = {}
    for key, value, step, ts in zip(
        batch.keys, batch.values, batch.steps, batch.timestamps, strict=True
    ):
        nan = math.isnan(value)
        stored = 0.0 if nan else value
        rows.append(
            {
                "run_id": run_id,
                "key": key,
                "value": stored,
                "is_nan": nan,
                "step": step,
                "timestamp": ts,
            }
        )
        best = latest.get(key)
        if best is None or (step, ts) >= (best[0], best[1]):
            latest[key] = (step, ts, stored, nan)
    # Core insert of the table, not the ORM entity: the ORM's bulk path does Python work per
    # row (about three quarters of ingest time when profiled); this is one executemany.
    s.execute(insert(_METRICS_TABLE), rows)
    current = {
        row.key: row
        for row in s.scalars(
            select(schema.LatestMetric).where(
                schema.LatestMetric.run_id == run_id, schema.LatestMetric.key.in_(list(latest))
            )
        )
    }
    for key, (step, ts, value, nan) in latest.items():
        row = current.get(key)
        if row is None:
            s.add(
                schema.LatestMetric(
                    run_id=run_id, key=key, value=value, is_nan=nan, step=step, timestamp=ts
                )
            )
        elif (step, ts) >= (row.step, row.timestamp):
            row.value, row.is_nan, row.step, row.timestamp = value, nan, step, ts
    s.flush()
    return len(rows)


def log_artifacts(ctx: Context, req: m.LogArtifacts) -> m.RunDetail:
    """Record files already put in the artifact store (the client uploads them first)."""
    run = writable_run(ctx, req.run_id)
    touch(run)
    log_artifacts_row(ctx, run, req.artifacts)
    return run_detail(ctx, run)


def log_artifacts_row(ctx: Context, run: schema.Run, artifacts: list[m.ArtifactFile]) -> None:
    """Record ``artifacts`` on ``run``, whose writer the caller checked."""
    require_nameable(ctx, [a.digest for a in artifacts], run.environment)
    s = ctx.session
    existing = {
        a.path: a
        for a in s.scalars(select(schema.RunArtifact).where(schema.RunArtifact.run_id == run.id))
    }
    for a in artifacts:
        row = existing.get(a.path)
        if row is None:
            s.add(schema.RunArtifact(run_id=run.id, path=a.path, digest=a.digest, size=a.size))
        else:
            row.digest, row.size = a.digest, a.size
    s.flush()
    ws, env = run_scope(run)
    ctx.audit(
        "run.log_artifacts",
        workspace=ws,
        environment=env,
        target=f"run/{run.id}",
        after={"artifacts": [a.model_dump() for a in artifacts][:100]},
    )
    add_edges(
        ctx,
        run.experiment.workspace_id,
        [("run", run.id, "artifact", a.digest, "output") for a in artifacts],
    )


def get_run_detail(ctx: Context, req: m.RunRef) -> m.RunDetail:
    return run_detail(ctx, readable_run(ctx, req.run_id))


def metric_history(ctx: Context, req: m.MetricHistoryRequest) -> m.MetricHistory:
    run = readable_run(ctx, req.run_id)
    return series(ctx, run, req.key, req.max_points)


def search_runs(ctx: Context, req: m.SearchRuns) -> Page[m.RunInfo]:
    ws = get_workspace(ctx, req.workspace)
    readable = readable_environments(ctx, ws)
    clauses = parse_filter(req.filter)
    columns = parse_columns(req.columns)
    q = base_query().where(
        schema.Experiment.workspace_id == ws.id, schema.Run.environment_id.in_(readable)
    )
    if req.experiment:
        q = q.where(schema.Experiment.name == req.experiment)
    if req.environment:
        # A misspelt environment is named, not answered with an empty page.
        env = get_environment(ctx, ws.name, req.environment)
        q = q.where(schema.Run.environment_id == env.id)
    if not req.include_children:
        q = q.where(schema.Run.parent_id.is_(None))
    q = q.where(*in_view(schema.Run.deleted_at, req.view_type))
    cutoff = lost_before(ctx)
    q = apply_filter(q, clauses, lost_before=cutoff)
    q, keys = order_keys(q, req.order_by, lost_before=cutoff)
    runs, token = keyset_page(
        ctx.session,
        q,
        keys,
        req,
        # A token walks one ordering; the same filter is the caller's to send again.
        scope="runs:" + "|".join(req.order_by),
        unique=True,
    )
    return Page(items=run_infos(ctx, runs, columns), next_page_token=token)
