"""A monitor's row: finding it, what it watches, its checks, recording its changes and
rendering it (shared by the operations, the workflow's steps and the monitor services)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.core.models import from_row
from modelwright.endpoints import service as endpoints
from modelwright.errors import InvalidInput, NotFound
from modelwright.monitors import models as m
from modelwright.store import schema

__all__ = [
    "KIND",
    "M",
    "R",
    "baseline_of",
    "change_action",
    "check_baseline",
    "latest_at",
    "model_features",
    "monitor_detail",
    "monitor_fields",
    "monitor_info",
    "monitor_row",
    "options",
    "record_change",
    "result_info",
    "schedule_name",
    "sees_monitor",
    "served_deployment",
    "thresholds",
    "visible_monitor",
    "watched",
    "worst_status",
]

M = schema.Monitor


R = schema.MonitorResult


KIND = "monitor.run"


# Worst first: a monitor's status is its latest evaluation's worst value.
_SEVERITY = ("error", "alert", "no_data", "ok")


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


def sees_monitor(ctx: Context, row: schema.Monitor) -> bool:
    env = row.environment
    if row.endpoint is None:  # a series is data: its readers read its monitors
        return ctx.allowed(Action.DATA_READ, env.workspace.name, env.name)
    return endpoints.sees_endpoints(ctx, env.workspace.name, env.name)


def watched(row: schema.Monitor) -> dict[str, str | None]:
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


def worst_status(ctx: Context, monitor_id: int, at: datetime) -> str:
    found = set(
        ctx.session.scalars(
            select(R.status).where(R.monitor_id == monitor_id, R.evaluated_at == at).distinct()
        )
    )
    return next((s for s in _SEVERITY if s in found), "no_data")


def latest_at(ctx: Context, monitor_id: int) -> datetime | None:
    return ctx.session.scalar(select(func.max(R.evaluated_at)).where(R.monitor_id == monitor_id))


def schedule_name(row: schema.Monitor) -> str:
    return f"monitor-{row.id}"


def monitor_row(ctx: Context, req: m.MonitorRef) -> schema.Monitor:
    """The monitor, if the caller may read it (else NotFound)."""
    return visible_monitor(ctx, req)


def visible_monitor(ctx: Context, req: m.MonitorRef) -> schema.Monitor:
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


def record_change(ctx: Context, row: schema.Monitor, action: str) -> None:
    env = row.environment
    state = {
        "monitor": row.name,
        **watched(row),
        "baseline": baseline_of(row),
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


def baseline_of(row: schema.Monitor) -> str:
    return f"{row.baseline.dataset.name}@v{row.baseline.version}"


def monitor_info(ctx: Context, row: schema.Monitor) -> m.MonitorInfo:
    return m.MonitorInfo(**monitor_fields(ctx, row))


def monitor_detail(ctx: Context, row: schema.Monitor) -> m.MonitorDetail:
    fields = monitor_fields(ctx, row)
    at = fields["last_evaluated_at"]
    latest = (
        []
        if at is None
        else [
            result_info(r)
            for r in ctx.session.scalars(
                select(R).where(R.monitor_id == row.id, R.evaluated_at == at).order_by(R.id)
            )
        ]
    )
    return m.MonitorDetail(**fields, latest=latest)


def monitor_fields(ctx: Context, row: schema.Monitor) -> dict[str, Any]:
    env = row.environment
    at = latest_at(ctx, row.id)
    return {
        "id": row.id,
        "workspace": env.workspace.name,
        "environment": env.name,
        "name": row.name,
        "kind": "endpoint" if row.endpoint is not None else "series",
        **watched(row),
        "baseline": baseline_of(row),
        "window_seconds": row.window_seconds,
        "schedule": row.schedule,
        "signals": list(row.signals),
        "thresholds": thresholds(row),
        "description": row.description,
        **options(row),
        "created_by": row.created_by,
        "created_at": row.created_at,
        "last_evaluated_at": at,
        "status": None if at is None else worst_status(ctx, row.id, at),
    }


def result_info(r: schema.MonitorResult) -> m.MonitorResult:
    return from_row(m.MonitorResult, r)
