"""Deleting and restoring runs and experiments.

Deletion is soft first, as in MLflow: a deleted run or experiment is hidden from searches
and listings (``view_type`` shows it), may not be logged to, and ``restore`` brings it back.
Once it has been deleted for ``Settings.deletion_retention_days``, ``permanent`` removes its
rows (metrics, params, tags, artifact records, lineage edges); the objects they named stay
in the stores until ``modelwright gc`` finds nothing else names them.

A run's descendants (a pipeline's nodes) go and come back with it; an experiment's runs go
and come back with the experiment (those deleted before it stay deleted when it is
restored). Who may start runs in an environment may delete them there: ``pipeline.run`` in
every environment holding one of the runs. Every deletion and restore is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.lineage import remove_edges
from modelwright.core.lookup import visible_workspace
from modelwright.errors import Conflict, NotFound
from modelwright.store import schema
from modelwright.tracking import models as m
from modelwright.tracking._lookup import chunks, readable_run, run_info, run_scope
from modelwright.tracking.experiments import experiment_info

__all__ = ["delete_experiment", "delete_run", "restore_experiment", "restore_run"]


def delete_run(ctx: Context, req: m.DeleteRun) -> m.Deletion:
    run = readable_run(ctx, req.run_id)
    runs = [run, *_descendants(ctx, [run.id])]
    _require_writer(ctx, runs)
    target = f"run/{run.id}"
    ws, env = run_scope(run)
    if req.permanent:
        deleted_at = _check_retention(ctx, target, run.deleted_at)
        _remove_runs(ctx, runs)
        ctx.audit(
            "run.delete",
            workspace=ws,
            environment=env,
            target=target,
            before={"deleted_at": deleted_at.isoformat(), "runs": _ids(runs)},
            after={"permanent": True},
        )
        return m.Deletion(target=target, permanent=True, runs=_ids(runs), deleted_at=deleted_at)
    if run.deleted_at is None:
        _mark(ctx, [r for r in runs if r.deleted_at is None], utcnow())
        ctx.audit(
            "run.delete",
            workspace=ws,
            environment=env,
            target=target,
            after={"deleted_at": _iso(run.deleted_at), "runs": _ids(runs)},
        )
    return _soft(ctx, target, runs, run.deleted_at)


def restore_run(ctx: Context, req: m.RunRef) -> m.RunInfo:
    run = readable_run(ctx, req.run_id)
    if run.deleted_at is None:
        return run_info(ctx, run)  # restoring a live run changes nothing
    if run.experiment.deleted_at is not None:
        raise Conflict(
            f"run '{run.id}' belongs to experiment '{run.experiment.name}', which is deleted: "
            "restore the experiment",
            details={"run_id": run.id, "experiment": run.experiment.name},
        )
    # The descendants deleted with it (the same moment), not those deleted on their own.
    runs = [run, *(r for r in _descendants(ctx, [run.id]) if r.deleted_at == run.deleted_at)]
    _require_writer(ctx, runs)
    when = run.deleted_at
    _mark(ctx, runs, None)
    ws, env = run_scope(run)
    ctx.audit(
        "run.restore",
        workspace=ws,
        environment=env,
        target=f"run/{run.id}",
        before={"deleted_at": when.isoformat(), "runs": _ids(runs)},
    )
    return run_info(ctx, run)


def delete_experiment(ctx: Context, req: m.DeleteExperiment) -> m.Deletion:
    ws, exp = _experiment(ctx, req)
    runs = list(ctx.session.scalars(select(schema.Run).where(schema.Run.experiment_id == exp.id)))
    _require_writer(ctx, runs, ws)
    target = f"experiment/{ws.name}/{exp.name}"
    if req.permanent:
        deleted_at = _check_retention(ctx, target, exp.deleted_at)
        _remove_runs(ctx, runs)
        ctx.session.delete(exp)
        ctx.session.flush()
        ctx.audit(
            "experiment.delete",
            workspace=ws.name,
            target=target,
            before={"deleted_at": deleted_at.isoformat(), "runs": _ids(runs)},
            after={"permanent": True},
        )
        return m.Deletion(target=target, permanent=True, runs=_ids(runs), deleted_at=deleted_at)
    if exp.deleted_at is None:
        now = utcnow()
        exp.deleted_at, exp.deleted_by = now, ctx.caller.name
        live = [r for r in runs if r.deleted_at is None]
        _mark(ctx, live, now)
        ctx.audit(
            "experiment.delete",
            workspace=ws.name,
            target=target,
            after={"deleted_at": now.isoformat(), "runs": _ids(live)},
        )
    with_it = [r for r in runs if r.deleted_at == exp.deleted_at]
    return _soft(ctx, target, with_it, exp.deleted_at)


def restore_experiment(ctx: Context, req: m.ExperimentRef) -> m.ExperimentInfo:
    ws, exp = _experiment(ctx, req)
    runs = list(ctx.session.scalars(select(schema.Run).where(schema.Run.experiment_id == exp.id)))
    _require_writer(ctx, runs, ws)
    if exp.deleted_at is not None:
        when = exp.deleted_at
        with_it = [r for r in runs if r.deleted_at == when]
        exp.deleted_at, exp.deleted_by = None, None
        _mark(ctx, with_it, None)
        ctx.audit(
            "experiment.restore",
            workspace=ws.name,
            target=f"experiment/{ws.name}/{exp.name}",
            before={"deleted_at": when.isoformat(), "runs": _ids(with_it)},
        )
    live = sum(1 for r in runs if r.deleted_at is None)
    return experiment_info(exp, ws.name, runs=live)


# -- helpers ------------------------------------------------------------------------------------
def _experiment(ctx: Context, req: m.ExperimentRef) -> tuple[schema.Workspace, schema.Experiment]:
    ws = visible_workspace(ctx, req.workspace)
    exp = ctx.session.scalar(
        select(schema.Experiment).where(
            schema.Experiment.workspace_id == ws.id, schema.Experiment.name == req.name
        )
    )
    if exp is None:
        raise NotFound(
            f"experiment '{req.name}' not found in workspace '{ws.name}'",
            details={"workspace": ws.name, "experiment": req.name},
        )
    return ws, exp


def _descendants(ctx: Context, parents: list[str]) -> list[schema.Run]:
    found: list[schema.Run] = []
    while parents:  # generation by generation
        rows: list[schema.Run] = []
        for chunk in chunks(parents, 500):
            rows += ctx.session.scalars(select(schema.Run).where(schema.Run.parent_id.in_(chunk)))
        found += rows
        parents = [r.id for r in rows]
    return found


def _require_writer(
    ctx: Context, runs: list[schema.Run], ws: schema.Workspace | None = None
) -> None:
    """``pipeline.run`` wherever one of ``runs`` is; for an experiment without runs, in some
    environment of its workspace (as for creating one)."""
    places = sorted({run_scope(r) for r in runs})
    for workspace, environment in places:
        ctx.require(Action.PIPELINE_RUN, workspace, environment)
    if (
        not places
        and ws is not None
        and not any(ctx.allowed(Action.PIPELINE_RUN, ws.name, e.name) for e in ws.environments)
    ):
        ctx.require(Action.PIPELINE_RUN, ws.name)


def _mark(ctx: Context, runs: list[schema.Run], when: datetime | None) -> None:
    for r in runs:
        r.deleted_at = when
        r.deleted_by = ctx.caller.name if when is not None else None
    ctx.session.flush()


def _check_retention(ctx: Context, target: str, deleted_at: datetime | None) -> datetime:
    """Permanent deletion only of what has been (soft-)deleted for the retention."""
    days = ctx.settings.deletion_retention_days
    if deleted_at is None:
        raise Conflict(
            f"{target} is not deleted: delete it first; it may be deleted permanently "
            f"{days:g} days later (the retention, MODELWRIGHT_DELETION_RETENTION_DAYS)",
            details={"target": target, "retention_days": days},
        )
    after = deleted_at + timedelta(days=days)
    if utcnow() < after:
        raise Conflict(
            f"{target} was deleted at {_iso(deleted_at)}: it may be deleted permanently from "
            f"{_iso(after)}, after the retention of {days:g} days "
            "(MODELWRIGHT_DELETION_RETENTION_DAYS); until then it can be restored",
            details={"target": target, "retention_days": days, "permanent_after": _iso(after)},
        )
    return deleted_at


def _remove_runs(ctx: Context, runs: list[schema.Run]) -> None:
    """Remove the runs' rows: their metrics, params, tags and artifact records go with them
    (foreign keys cascade); lineage edges name runs by id, so they go here."""
    remove_edges(ctx, "run", _ids(runs))
    # Children first: a parent's cascade would otherwise race the session's own deletes.
    for r in reversed(runs):
        ctx.session.delete(r)
    ctx.session.flush()


def _soft(
    ctx: Context, target: str, runs: list[schema.Run], deleted_at: datetime | None
) -> m.Deletion:
    after = (
        deleted_at + timedelta(days=ctx.settings.deletion_retention_days) if deleted_at else None
    )
    return m.Deletion(
        target=target,
        permanent=False,
        runs=_ids(runs),
        deleted_at=deleted_at,
        permanent_after=after,
    )


def _ids(runs: list[schema.Run]) -> list[str]:
    return [r.id for r in runs]


def _iso(when: datetime | None) -> str:
    return when.isoformat(timespec="seconds") if when is not None else ""
