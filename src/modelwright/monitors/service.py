"""Monitor operations, and the steps of their workflow (``tasks._monitor``).

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

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.pages import Page
from modelwright.data.service import find_version
from modelwright.endpoints import service as endpoints
from modelwright.endpoints.stats import serving_stats
from modelwright.endpoints.stats_models import ServingStatsQuery
from modelwright.errors import Conflict, InvalidInput, NotFound
from modelwright.monitors import models as m
from modelwright.monitors.alert_eval import evaluate_rules
from modelwright.monitors.retrain_flow import on_firing
from modelwright.monitors.series import check_series, default_features, versions_in_window
from modelwright.registry.uri import model_uri
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

M = schema.Monitor
R = schema.MonitorResult
KIND = "monitor.run"
# Worst first: a monitor's status is its latest evaluation's worst value.
_SEVERITY = ("error", "alert", "no_data", "ok")


# -- operations -------------------------------------------------------------------------------
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
            _schedule_name(row),
            KIND,
            created_by=ctx.caller.name,
            cron=req.schedule,
            inputs={"monitor_id": row.id},
            workspace=req.workspace,
            environment=req.environment,
        )
    _record(ctx, row, "monitor.create")
    return _detail(ctx, row)


def list_monitors(ctx: Context, req: m.ListMonitors) -> Page[m.MonitorInfo]:
    """Monitors the caller may see, oldest first; the filters run in SQL before the limit."""
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
        ctx.session, q, [Key(M.id)], req, scope="monitors", visible=lambda r: _sees(ctx, r)
    )
    return Page(items=[_info(ctx, r) for r in rows], next_page_token=token)


def get_monitor(ctx: Context, req: m.MonitorRef) -> m.MonitorDetail:
    return _detail(ctx, _monitor(ctx, req))


def delete_monitor(ctx: Context, req: m.MonitorRef) -> m.MonitorInfo:
    """The monitor, its schedule and its history go; jobs already started find it gone."""
    row = _monitor(ctx, req)
    ctx.require(change_action(row), req.workspace, req.environment)
    info = _info(ctx, row)
    ctx.session.execute(delete(schema.Schedule).where(schema.Schedule.name == _schedule_name(row)))
    _record(ctx, row, "monitor.delete")
    ctx.session.delete(row)
    return info


def run_monitor(ctx: Context, req: m.MonitorRef) -> m.MonitorRun:
    """One evaluation now, as a job of the platform's workers."""
    row = _monitor(ctx, req)
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
    row = _monitor(ctx, req)
    q = select(R).where(R.monitor_id == row.id)
    if req.signal is not None:
        q = q.where(R.signal == req.signal)
    if req.metric is not None:
        q = q.where(R.metric == req.metric)
    if req.feature is not None:
        q = q.where(R.feature == req.feature)
    if req.since is not None:
        q = q.where(R.evaluated_at >= req.since)
    if req.until is not None:
        q = q.where(R.evaluated_at <= req.until)
    found, token = keyset_page(
        ctx.session,
        q,
        [Key(R.evaluated_at, descending=True), Key(R.id, descending=True)],
        req,
        scope="monitor_history",
    )
    return Page(items=[_result(r) for r in reversed(found)], next_page_token=token)


# -- the workflow's steps ---------------------------------------------------------------------
def evaluation_plan(ctx: Context, monitor_id: int) -> dict[str, Any]:
    """What one evaluation reads: the window ending now, the served model's input features,
    the baseline, where the endpoint's capture is. ``error`` when the baseline cannot be
    compared (it lacks input columns); ``gone`` when the monitor was deleted."""
    row = ctx.session.get(M, monitor_id)
    if row is None:
        return {"gone": True}
    env = row.environment
    end = utcnow()
    if row.endpoint is None:
        return _series_plan(ctx, row, end)
    columns = [c["name"] for c in row.baseline.schema_ or []]
    features = model_features(row.endpoint)
    served = served_deployment(row.endpoint)
    plan: dict[str, Any] = {
        "monitor": row.name,
        "endpoint": row.endpoint.name,
        "window_start": (end - timedelta(seconds=row.window_seconds)).isoformat(),
        "window_end": end.isoformat(),
        "signals": list(row.signals),
        "thresholds": thresholds(row),
        "baseline": f"{env.name}/{row.baseline.dataset.name}@v{row.baseline.version}",
        "features": columns if features is None else features,
        # Where the model servers write it: the environment's first datastore.
        "capture_url": env.datastores[0].url if env.datastores else None,
        "options": options(row),
        "model": None
        if served is None
        else model_uri(served.version.model.name, served.version.version),
    }
    try:
        check_baseline(row.baseline, plan["features"], field="baseline")
    except InvalidInput as exc:
        plan["error"] = exc.message
    return plan


def record_evaluation(
    ctx: Context,
    monitor_id: int,
    plan: dict[str, Any],
    computed: dict[str, Any],
    job_id: int | None,
) -> str:
    """Store the values of one evaluation (once: a replay finds them stored) and advance the
    alert rules on them: ``computed`` holds the child's ``rows`` or its ``error``. Returns the
    worst status."""
    row = ctx.session.get(M, monitor_id)
    if row is None or plan.get("gone"):
        return "gone"
    at = datetime.fromisoformat(plan["window_end"])
    start_ = datetime.fromisoformat(plan["window_start"])
    if ctx.session.scalar(select(R.id).where(R.monitor_id == row.id, R.evaluated_at == at)):
        return _worst(ctx, row.id, at)
    problem = plan.get("error") or computed.get("error")
    values: list[dict[str, Any]] = []
    for signal in row.signals:
        if signal == "service":
            values += _service(ctx, row, start_, at, plan["thresholds"])
        elif problem:
            values.append(_error(signal, problem))
    values += computed.get("rows") or []
    for v in values:
        ctx.session.add(
            R(
                monitor_id=row.id,
                evaluated_at=at,
                window_start=start_,
                window_end=at,
                job_id=job_id,
                **v,
            )
        )
    ctx.session.flush()
    # A rule that fires starts the monitor's retraining in the same transaction.
    on_firing(ctx, row, evaluate_rules(ctx, row, at, start_, values))
    worst = _worst(ctx, row.id, at)
    env = row.environment
    ctx.event(
        "monitor.evaluated",
        workspace=env.workspace.name,
        environment=env.name,
        subject=f"monitor/{row.id}",
        data={"monitor": row.name, **_watched(row), "status": worst},
    )
    return worst


def _series_plan(ctx: Context, row: schema.Monitor, end: datetime) -> dict[str, Any]:
    """A series monitor's window: the versions of its dataset registered in it."""
    env = row.environment
    start_ = end - timedelta(seconds=row.window_seconds)
    found = options(row)
    columns = [c["name"] for c in row.baseline.schema_ or []]
    features = found["features"] or default_features(
        columns, found["prediction_column"], found["label_column"]
    )
    series = ctx.session.scalar(
        select(schema.Dataset).where(
            schema.Dataset.environment_id == env.id, schema.Dataset.name == row.dataset
        )
    )
    plan: dict[str, Any] = {
        "monitor": row.name,
        "endpoint": None,
        "dataset": row.dataset,
        "window_start": start_.isoformat(),
        "window_end": end.isoformat(),
        "signals": list(row.signals),
        "thresholds": thresholds(row),
        "baseline": f"{env.name}/{row.baseline.dataset.name}@v{row.baseline.version}",
        "features": features,
        "versions": [] if series is None else versions_in_window(ctx, series, start_, end),
        "capture_url": None,
        "options": found,
        "model": None,
    }
    if series is None:
        plan["error"] = (
            f"dataset '{row.dataset}' no longer exists in {env.workspace.name}/{env.name}"
        )
    missing = [f for f in features if f not in columns]
    if missing:
        plan["error"] = (
            f"baseline: dataset {_baseline(row)} lacks the column(s) "
            f"{', '.join(map(repr, missing))}"
        )
    return plan


# -- helpers ----------------------------------------------------------------------------------
def thresholds(row: schema.Monitor) -> dict[str, float]:
    return {**m.DEFAULT_THRESHOLDS, **row.thresholds}


def options(row: schema.Monitor) -> dict[str, Any]:
    found = row.options or {}
    out = {
        "task": found.get("task"),
        "baseline_predictions": found.get("baseline_predictions") or "model",
        "label_column": found.get("label_column"),
    }
    if row.dataset is not None:
        out |= {
            "features": found.get("features"),
            "prediction_column": found.get("prediction_column") or "prediction",
        }
    return out


def change_action(row: schema.Monitor) -> Action:
    """What changing or running the monitor needs where it is: it starts jobs there."""
    return Action.DATA_WRITE if row.endpoint is None else Action.ENDPOINT_DEPLOY


def _sees(ctx: Context, row: schema.Monitor) -> bool:
    env = row.environment
    if row.endpoint is None:  # a series is data: its readers read its monitors
        return ctx.allowed(Action.DATA_READ, env.workspace.name, env.name)
    return endpoints.sees_endpoints(ctx, env.workspace.name, env.name)


def _watched(row: schema.Monitor) -> dict[str, str | None]:
    return {"endpoint": None if row.endpoint is None else row.endpoint.name, "dataset": row.dataset}


def served_deployment(endpoint: schema.Endpoint) -> schema.EndpointDeployment | None:
    """The deployment taking most of the endpoint's traffic."""
    if not endpoint.deployments:
        return None
    return max(endpoint.deployments, key=lambda d: (d.weight, d.name))


def model_features(endpoint: schema.Endpoint) -> list[str] | None:
    """The input columns of the model taking most of the endpoint's traffic (None: no
    deployment, or a model without a dataframe signature)."""
    served = served_deployment(endpoint)
    if served is None:
        return None
    signature = served.version.signature or {}
    inputs = signature.get("inputs") or {}
    if inputs.get("kind") != "dataframe" or not inputs.get("columns"):
        return None
    return [c["name"] for c in inputs["columns"]]


def check_baseline(version: schema.DatasetVersion, features: list[str], *, field: str) -> None:
    columns = {c["name"] for c in version.schema_ or []}
    missing = [f for f in features if f not in columns]
    if missing:
        ref = f"{version.dataset.name}@v{version.version}"
        raise InvalidInput(
            f"{field}: dataset {ref} lacks the model's input column(s) "
            f"{', '.join(map(repr, missing))}"
            + ("" if columns else " (it is not tabular: no schema)"),
            details={"field": field, "missing_columns": missing},
        )


def _service(
    ctx: Context, row: schema.Monitor, start_: datetime, end: datetime, t: dict[str, float]
) -> list[dict[str, Any]]:
    env = row.environment
    if row.endpoint is None:
        raise InvalidInput(
            f"monitor {row.name}: a dataset series has no service signal (no endpoint)",
            details={"field": "signals"},
        )
    stats = serving_stats(
        ctx,
        ServingStatsQuery(
            workspace=env.workspace.name,
            environment=env.name,
            endpoint=row.endpoint.name,
            since=start_,
            until=end,
        ),
    ).total
    seconds = (end - start_).total_seconds()
    detail = f"{stats.requests} request(s)" if stats.has_data else "no request in the window"
    figures = (
        ("error_rate", stats.error_rate, t.get("error_rate")),
        ("p50_ms", stats.p50_ms, t.get("p50_ms")),
        ("p99_ms", stats.p99_ms, t.get("p99_ms")),
        ("throughput", stats.requests / seconds, None),
    )
    return [
        {
            "signal": "service",
            "metric": name,
            "feature": None,
            "value": value,
            "threshold": limit,
            # No request recorded: no data, whatever the values (a throughput of 0).
            "status": "no_data" if not stats.has_data else _status(value, limit),
            "detail": detail,
        }
        for name, value, limit in figures
    ]


def _status(value: float | None, threshold: float | None) -> str:
    if value is None:
        return "no_data"
    return "alert" if threshold is not None and value > threshold else "ok"


def _error(signal: str, message: str) -> dict[str, Any]:
    return {
        "signal": signal,
        "metric": "evaluation",
        "feature": None,
        "value": None,
        "threshold": None,
        "status": "error",
        "detail": message,
    }


def _worst(ctx: Context, monitor_id: int, at: datetime) -> str:
    found = set(
        ctx.session.scalars(
            select(R.status).where(R.monitor_id == monitor_id, R.evaluated_at == at).distinct()
        )
    )
    return next((s for s in _SEVERITY if s in found), "no_data")


def _latest_at(ctx: Context, monitor_id: int) -> datetime | None:
    return ctx.session.scalar(select(func.max(R.evaluated_at)).where(R.monitor_id == monitor_id))


def _schedule_name(row: schema.Monitor) -> str:
    return f"monitor-{row.id}"


def monitor_row(ctx: Context, req: m.MonitorRef) -> schema.Monitor:
    """The monitor, if the caller may read it (else NotFound)."""
    return _monitor(ctx, req)


def _monitor(ctx: Context, req: m.MonitorRef) -> schema.Monitor:
    env = endpoints.environment_for_endpoints(ctx, req.workspace, req.environment)
    row = ctx.session.scalar(select(M).where(M.environment_id == env.id, M.name == req.name))
    if row is not None and row.endpoint is None:
        ctx.require(Action.DATA_READ, req.workspace, req.environment)
    if row is None:
        raise NotFound(
            f"monitor '{req.name}' not found in {req.workspace}/{req.environment}",
            details={"monitor": req.name},
        )
    return row


def _record(ctx: Context, row: schema.Monitor, action: str) -> None:
    env = row.environment
    state = {
        "monitor": row.name,
        **_watched(row),
        "baseline": _baseline(row),
        "window_seconds": row.window_seconds,
        "schedule": row.schedule,
        "signals": list(row.signals),
    }
    ctx.audit(
        action,
        workspace=env.workspace.name,
        environment=env.name,
        target=f"monitor:{row.name}",
        after=None if action.endswith("delete") else state,
        before=state if action.endswith("delete") else None,
    )
    ctx.event(
        "monitor.changed",
        workspace=env.workspace.name,
        environment=env.name,
        subject=f"monitor/{row.id}",
        data={"action": action, **state},
    )


def _baseline(row: schema.Monitor) -> str:
    return f"{row.baseline.dataset.name}@v{row.baseline.version}"


def _info(ctx: Context, row: schema.Monitor) -> m.MonitorInfo:
    return m.MonitorInfo(**_fields(ctx, row))


def _detail(ctx: Context, row: schema.Monitor) -> m.MonitorDetail:
    fields = _fields(ctx, row)
    at = fields["last_evaluated_at"]
    latest = (
        []
        if at is None
        else [
            _result(r)
            for r in ctx.session.scalars(
                select(R).where(R.monitor_id == row.id, R.evaluated_at == at).order_by(R.id)
            )
        ]
    )
    return m.MonitorDetail(**fields, latest=latest)


def _fields(ctx: Context, row: schema.Monitor) -> dict[str, Any]:
    env = row.environment
    at = _latest_at(ctx, row.id)
    return {
        "id": row.id,
        "workspace": env.workspace.name,
        "environment": env.name,
        "name": row.name,
        "kind": "endpoint" if row.endpoint is not None else "series",
        **_watched(row),
        "baseline": _baseline(row),
        "window_seconds": row.window_seconds,
        "schedule": row.schedule,
        "signals": list(row.signals),
        "thresholds": thresholds(row),
        "description": row.description,
        **options(row),
        "created_by": row.created_by,
        "created_at": row.created_at,
        "last_evaluated_at": at,
        "status": None if at is None else _worst(ctx, row.id, at),
    }


def _result(r: schema.MonitorResult) -> m.MonitorResult:
    return m.MonitorResult(
        evaluated_at=r.evaluated_at,
        window_start=r.window_start,
        window_end=r.window_end,
        signal=r.signal,
        metric=r.metric,
        feature=r.feature,
        value=r.value,
        threshold=r.threshold,
        status=r.status,
        detail=r.detail,
        job_id=r.job_id,
    )
