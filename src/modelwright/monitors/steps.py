"""The steps of a monitor's evaluation (``tasks._monitor``): the plan (window, features, where
the capture or the series' versions are), then recording the values the child process computed
with the service values from the serving statistics, and the alert rules on them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from modelwright.core.context import Context, utcnow
from modelwright.endpoints.stats import serving_stats
from modelwright.endpoints.stats_models import ServingStatsQuery
from modelwright.errors import InvalidInput
from modelwright.monitors._rows import (
    M,
    R,
    baseline_of,
    check_baseline,
    model_features,
    options,
    served_deployment,
    thresholds,
    watched,
    worst_status,
)
from modelwright.monitors.alert_eval import evaluate_rules
from modelwright.monitors.retrain_flow import on_firing
from modelwright.monitors.series import default_features, versions_in_window
from modelwright.registry.uri import model_uri
from modelwright.store import schema

__all__ = [
    "evaluation_plan",
    "record_evaluation",
]


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
        return worst_status(ctx, row.id, at)
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
    worst = worst_status(ctx, row.id, at)
    env = row.environment
    ctx.event(
        "monitor.evaluated",
        workspace=env.workspace.name,
        environment=env.name,
        subject=f"monitor/{row.id}",
        data={"monitor": row.name, **watched(row), "status": worst},
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
            f"baseline: dataset {baseline_of(row)} lacks the column(s) "
            f"{', '.join(map(repr, missing))}"
        )
    return plan


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
