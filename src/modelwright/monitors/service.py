"""Monitor operations; the steps of their workflow (``tasks._monitor``) are in ``monitors.steps``.

Creating, running and deleting a monitor of an endpoint need ``endpoint.deploy`` in the
endpoint's environment (a monitor starts work there as its creator, on a schedule); reading
one and its history needs what reading the endpoint needs. A monitor of a dataset series
(``series``) needs ``data.write`` there instead, and reading it ``data.read``. An evaluation
runs as a job: the plan (window, features, where the capture or the series' versions are) is
made here, the drift and quality values are computed in a child process (``signals``), the
service values from the serving statistics here, and every value is stored in
``monitor_results``.
"""

from __future__ import annotations

from operator import eq, ge, le

from sqlalchemy import delete, select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.filters import where_given
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lookup import check_scope
from modelwright.core.pages import Page
from modelwright.data.service import find_version
from modelwright.endpoints import service as endpoints
from modelwright.errors import Conflict, InvalidInput
from modelwright.monitors import models as m
from modelwright.monitors._rows import (
    KIND,
    M,
    R,
    change_action,
    check_baseline,
    model_features,
    monitor_detail,
    monitor_info,
    monitor_row,
    record_change,
    result_info,
    schedule_name,
    sees_monitor,
    visible_monitor,
)
from modelwright.monitors.series import check_series
from modelwright.monitors.steps import evaluation_plan, record_evaluation
from modelwright.store import schema
from modelwright.workflows import create_schedule, start

__all__ = [
    "create_monitor",
    "delete_monitor",
    "evaluation_plan",
    "get_monitor",
    "list_monitors",
    "monitor_history",
    "monitor_row",
    "record_evaluation",
    "run_monitor",
]


def create_monitor(ctx: Context, req: m.CreateMonitor) -> m.MonitorDetail:
    if req.dataset is not None:
        baseline = find_version(ctx, req.workspace, req.environment, req.baseline)
        ctx.require(Action.DATA_WRITE, req.workspace, req.environment)
        environment = baseline.dataset.environment
        endpoint_id = None
    else:
        if req.endpoint is None:  # the request's validator asks for exactly one
            raise InvalidInput("endpoint, dataset: give exactly one", details={"field": "endpoint"})
        endpoint = endpoints.endpoint_row(ctx, req.workspace, req.environment, req.endpoint)
        ctx.require(Action.ENDPOINT_DEPLOY, req.workspace, req.environment)
        baseline = find_version(ctx, req.workspace, req.environment, req.baseline)
        features = model_features(endpoint)
        if features is not None:
            check_baseline(baseline, features, field="baseline")
        environment, endpoint_id = endpoint.environment, endpoint.id
    if req.label_column is not None:
        check_baseline(baseline, [req.label_column], field="label_column")
    if req.dataset is not None:
        check_series(
            ctx,
            environment,
            req.dataset,
            baseline,
            features=req.features,
            signals=req.signals,
            prediction_column=req.prediction_column,
            baseline_predictions=req.baseline_predictions,
            label_column=req.label_column,
        )
    if ctx.session.scalar(
        select(M.id).where(M.environment_id == environment.id, M.name == req.name)
    ):
        raise Conflict(
            f"monitor '{req.name}' exists in {req.workspace}/{req.environment}",
            details={"monitor": req.name},
        )
    row = M(
        environment_id=environment.id,
        name=req.name,
        endpoint_id=endpoint_id,
        dataset=req.dataset,
        baseline_version_id=baseline.id,
        window_seconds=req.window_seconds,
        schedule=req.schedule,
        signals=list(req.signals),
        thresholds=dict(req.thresholds),
        description=req.description,
        options=req.options(),
        created_by=ctx.caller.name,
        created_at=utcnow(),
    )
    ctx.session.add(row)
    ctx.session.flush()
    if req.schedule is not None:
        create_schedule(
            ctx.session,
            schedule_name(row),
            KIND,
            created_by=ctx.caller.name,
            cron=req.schedule,
            inputs={"monitor_id": row.id},
            workspace=req.workspace,
            environment=req.environment,
        )
    record_change(ctx, row, "monitor.create")
    return monitor_detail(ctx, row)


def list_monitors(ctx: Context, req: m.ListMonitors) -> Page[m.MonitorInfo]:
    """Monitors the caller may see, oldest first; the filters run in SQL before the limit."""
    check_scope(ctx, req.workspace, req.environment)
    q = select(M)
    if req.workspace is not None or req.environment is not None:
        q = q.join(schema.Environment, M.environment_id == schema.Environment.id)
    if req.workspace is not None:
        q = q.join(schema.Workspace, schema.Environment.workspace_id == schema.Workspace.id)
        q = q.where(schema.Workspace.name == req.workspace)
    if req.environment is not None:
        q = q.where(schema.Environment.name == req.environment)
    if req.endpoint is not None:
        q = q.join(schema.Endpoint, M.endpoint_id == schema.Endpoint.id)
        q = q.where(schema.Endpoint.name == req.endpoint)
    if req.dataset is not None:
        q = q.where(M.dataset == req.dataset)
    rows, token = keyset_page(
        ctx.session, q, [Key(M.id)], req, scope="monitors", visible=lambda r: sees_monitor(ctx, r)
    )
    return Page(items=[monitor_info(ctx, r) for r in rows], next_page_token=token)


def get_monitor(ctx: Context, req: m.MonitorRef) -> m.MonitorDetail:
    return monitor_detail(ctx, visible_monitor(ctx, req))


def delete_monitor(ctx: Context, req: m.MonitorRef) -> m.MonitorInfo:
    """The monitor, its schedule and its history go; jobs already started find it gone."""
    row = visible_monitor(ctx, req)
    ctx.require(change_action(row), req.workspace, req.environment)
    info = monitor_info(ctx, row)
    ctx.session.execute(delete(schema.Schedule).where(schema.Schedule.name == schedule_name(row)))
    record_change(ctx, row, "monitor.delete")
    ctx.session.delete(row)
    return info


def run_monitor(ctx: Context, req: m.MonitorRef) -> m.MonitorRun:
    """One evaluation now, as a job of the platform's workers."""
    row = visible_monitor(ctx, req)
    ctx.require(change_action(row), req.workspace, req.environment)
    job = start(
        ctx.session,
        KIND,
        {"monitor_id": row.id},
        started_by=ctx.caller.name,
        workspace=req.workspace,
        environment=req.environment,
        reason=f"evaluate monitor {row.name}",
    )
    if job is None:  # only a start with a key may find its job already there
        raise RuntimeError(f"monitor {row.name}: the evaluation job was not started")
    return m.MonitorRun(monitor=row.name, job_id=job)


def monitor_history(ctx: Context, req: m.MonitorHistory) -> Page[m.MonitorResult]:
    """Values of the monitor's evaluations, oldest first (the latest ``limit`` of them); the
    next page holds the ``limit`` before them."""
    row = visible_monitor(ctx, req)
    q = where_given(
        select(R).where(R.monitor_id == row.id),
        (R.signal, eq, req.signal),
        (R.metric, eq, req.metric),
        (R.feature, eq, req.feature),
        (R.evaluated_at, ge, req.since),
        (R.evaluated_at, le, req.until),
    )
    found, token = keyset_page(
        ctx.session,
        q,
        [Key(R.evaluated_at, descending=True), Key(R.id, descending=True)],
        req,
        scope="monitor_history",
    )
    return Page(items=[result_info(r) for r in reversed(found)], next_page_token=token)
