"""Experiment operations: listing them, and creating one (also on the first run started in it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, func, select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lookup import (
    get_workspace,
    visible_workspace,
)
from modelwright.core.models import from_row
from modelwright.core.pages import Page
from modelwright.errors import AlreadyExists, Conflict
from modelwright.store import schema
from modelwright.store.db import insert_one_missing
from modelwright.tracking import models as m

__all__ = [
    "create_experiment",
    "experiment_info",
    "experiment_row",
    "in_view",
    "list_experiments",
]

_EXPERIMENTS = cast(Table, schema.Experiment.__table__)


def list_experiments(ctx: Context, req: m.ListExperiments) -> Page[m.ExperimentInfo]:
    ws = visible_workspace(ctx, req.workspace)
    rows, token = keyset_page(
        ctx.session,
        select(schema.Experiment).where(
            schema.Experiment.workspace_id == ws.id,
            *in_view(schema.Experiment.deleted_at, req.view_type),
        ),
        [Key(schema.Experiment.name)],
        req,
        scope="experiments",
    )
    # The runs shown with each experiment: its live runs, or those deleted with it.
    counts: dict[tuple[int, datetime | None], int] = {
        (exp_id, deleted_at): n
        for exp_id, deleted_at, n in ctx.session.execute(
            select(schema.Run.experiment_id, schema.Run.deleted_at, func.count())
            .where(schema.Run.experiment_id.in_([e.id for e in rows]))
            .group_by(schema.Run.experiment_id, schema.Run.deleted_at)
        )
    }
    items = [experiment_info(e, ws.name, runs=counts.get((e.id, e.deleted_at), 0)) for e in rows]
    return Page(items=items, next_page_token=token)


def in_view(deleted_at: Any, view_type: m.ViewType) -> list[ColumnElement[bool]]:
    """The conditions on a ``deleted_at`` column that keep the rows a view shows."""
    if view_type == "active_only":
        return [deleted_at.is_(None)]
    if view_type == "deleted_only":
        return [deleted_at.is_not(None)]
    return []


def experiment_info(e: schema.Experiment, workspace: str, *, runs: int) -> m.ExperimentInfo:
    return from_row(m.ExperimentInfo, e, workspace=workspace, runs=runs)


def create_experiment(ctx: Context, req: m.CreateExperiment) -> m.ExperimentInfo:
    """Whoever may start runs in one of the workspace's environments may create its
    experiments (starting a run in a new experiment creates it just the same)."""
    ws = get_workspace(ctx, req.workspace)
    if not any(ctx.allowed(Action.PIPELINE_RUN, ws.name, e.name) for e in ws.environments):
        ctx.require(Action.PIPELINE_RUN, ws.name)
    named = select(schema.Experiment).where(
        schema.Experiment.workspace_id == ws.id, schema.Experiment.name == req.name
    )
    created = insert_one_missing(
        ctx.session,
        _EXPERIMENTS,
        {
            "workspace_id": ws.id,
            "name": req.name,
            "description": req.description,
            "created_at": utcnow(),
            "created_by": ctx.caller.name,
        },
    )
    if not created:
        raise AlreadyExists(
            f"experiment '{req.name}' already exists in workspace '{ws.name}'",
            details={"experiment": req.name, "workspace": ws.name},
        )
    exp = ctx.session.scalars(named).one()
    ctx.audit(
        "experiment.create",
        workspace=ws.name,
        target=f"experiment/{ws.name}/{req.name}",
        after={"name": req.name, "description": req.description},
    )
    return experiment_info(exp, ws.name, runs=0)


def experiment_row(ctx: Context, ws: schema.Workspace, name: str) -> schema.Experiment:
    """The experiment, created if new: atomically, since runs of a new experiment are often
    started by several processes at once (a loser of a select-then-insert race would fail)."""
    named = select(schema.Experiment).where(
        schema.Experiment.workspace_id == ws.id, schema.Experiment.name == name
    )
    exp = ctx.session.scalar(named)
    if exp is not None:
        if exp.deleted_at is not None:
            raise Conflict(
                f"experiment '{name}' of workspace '{ws.name}' is deleted: restore it to start "
                "runs in it",
                details={"experiment": name, "workspace": ws.name},
            )
        return exp
    created = insert_one_missing(
        ctx.session,
        _EXPERIMENTS,
        {
            "workspace_id": ws.id,
            "name": name,
            "created_at": utcnow(),
            "created_by": ctx.caller.name,
        },
    )
    exp = ctx.session.scalars(named).one()
    if created:
        ctx.audit(
            "experiment.create",
            workspace=ws.name,
            target=f"experiment/{ws.name}/{name}",
            after={"name": name},
        )
    return exp
