"""Starting a monitor's retraining (a firing alert, or someone asking), and the steps of its
workflow (``tasks._retrain``).

A retraining starts at most once per cooldown: the action keeps when the last one started,
and a firing within the cooldown is recorded as ``skipped`` with the reason. It runs, and
requests its promotion, as the principal who configured the action: the promotion goes
through the target's policy (its gates and approvals) like anyone's request, so nothing
reaches the target that a person could not have brought there.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from modelwright.core.context import Context, utcnow
from modelwright.errors import ModelwrightError, NotFound
from modelwright.promotions.models import RequestPromotion
from modelwright.promotions.service import request_promotion
from modelwright.store import schema
from modelwright.workflows import start_for

__all__ = ["KIND", "finish_retraining", "on_firing", "retrain_plan", "start_retraining"]

KIND = "monitor.retrain"
RA = schema.RetrainAction


def on_firing(ctx: Context, monitor: schema.Monitor, event_ids: list[int]) -> None:
    """After an evaluation's transitions: each one to ``firing`` starts the monitor's
    retraining, unless one started within the cooldown (then it is recorded as skipped)."""
    action = ctx.session.scalar(select(RA).where(RA.monitor_id == monitor.id))
    if action is None:
        return
    for event_id in event_ids:
        event = ctx.session.get(schema.AlertEvent, event_id)
        if event is not None and event.state == "firing":
            start_retraining(ctx, action, "alert", rule=event.rule.name, event_id=event.id)


def start_retraining(
    ctx: Context,
    action: schema.RetrainAction,
    trigger: str,
    *,
    rule: str | None = None,
    event_id: int | None = None,
    force: bool = False,
    by: str | None = None,
) -> schema.Retraining:
    now = utcnow()
    monitor = action.monitor
    row = schema.Retraining(
        monitor_id=monitor.id,
        trigger=trigger,
        alert_event_id=event_id,
        rule=rule,
        status="running",
        reason="",
        started_by=by or action.created_by,
        created_at=now,
    )
    last = action.last_started_at
    wait = None if last is None else last + timedelta(seconds=action.cooldown_seconds)
    if wait is not None and now < wait and not force:
        row.status = "skipped"
        row.reason = (
            f"cooldown: a retraining started at {_fmt(last)}; the next may start after "
            f"{_fmt(wait)} ({action.cooldown_seconds}s cooldown)"
        )
        row.finished_at = now
    why = f"alert rule {rule} fired" if rule else f"asked by {by or action.created_by}"
    ctx.session.add(row)
    ctx.session.flush()
    env = monitor.environment
    if row.status == "running":
        row.reason = why + (" (cooldown overridden)" if force and wait and now < wait else "")
        action.last_started_at = now
        start_for(
            ctx.session,
            row,
            "retraining",
            KIND,
            # As who configured it: its grants decide what the retraining may do.
            started_by=action.created_by,
            workspace=env.workspace.name,
            environment=action.train_env.name,
            reason=f"retrain for monitor {monitor.name}: {why}",
        )
    _event(ctx, row, "retraining.started" if row.status == "running" else "retraining.skipped")
    ctx.audit(
        "retraining.start" if row.status == "running" else "retraining.skip",
        workspace=env.workspace.name,
        environment=env.name,
        target=f"monitor:{monitor.name}/retraining:{row.id}",
        after={"trigger": trigger, "rule": rule, "status": row.status, "reason": row.reason},
    )
    return row


# -- the workflow's steps ---------------------------------------------------------------------
def retrain_plan(ctx: Context, retraining_id: int) -> dict[str, Any]:
    """The child's inputs: the snapshot, the pipeline and its parameters, what to register.
    ``gone`` when the monitor or its action went meanwhile."""
    row = ctx.session.get(schema.Retraining, retraining_id)
    action = (
        None
        if row is None
        else ctx.session.scalar(select(RA).where(RA.monitor_id == row.monitor_id))
    )
    if row is None or action is None:
        return {"gone": True}
    return {
        "project": action.project,
        "pipeline": action.pipeline,
        "params": list(action.params),
        "cache": False,  # new data under the same names: never a cached model
        "tags": [],
        "to_outputs": [],
        "output": action.output,
        "example": action.example,
        "model": action.model,
    }


def finish_retraining(ctx: Context, retraining_id: int, outcome: dict[str, Any]) -> str:
    """Request the promotion of the version the run registered (as the action's author, in
    this step's transaction), and record how the retraining ended."""
    row = ctx.session.get(schema.Retraining, retraining_id)
    if row is None:
        return "gone"
    if row.status != "running":
        return row.status  # a replay
    action = ctx.session.scalar(select(RA).where(RA.monitor_id == row.monitor_id))
    if outcome.get("error") or action is None:
        return _end(ctx, row, "failed", outcome.get("error") or "the retraining action was cleared")
    row.run_id = outcome["run_id"]
    row.version = int(outcome["version"])
    monitor = action.monitor
    try:
        with ctx.session.begin_nested():
            promotion = request_promotion(
                ctx,
                RequestPromotion(
                    workspace=monitor.environment.workspace.name,
                    model=action.model,
                    version=row.version,
                    to=action.target_env.name,
                    source=action.train_env.name,
                    alias=action.alias,
                    reason=f"retrained by monitor {monitor.name} (retraining {row.id})",
                ),
            )
    except ModelwrightError as exc:
        return _end(ctx, row, "failed", f"promotion not requested: {exc.message}")
    row.promotion_id = promotion.id
    return _end(ctx, row, "succeeded", f"version {row.version} awaits promotion {promotion.id}")


def _end(ctx: Context, row: schema.Retraining, status: str, reason: str) -> str:
    row.status = status
    row.reason = f"{row.reason}; {reason}" if row.reason else reason
    row.finished_at = utcnow()
    _event(ctx, row, "retraining.finished")
    return status


def _event(ctx: Context, row: schema.Retraining, kind: str) -> None:
    monitor = ctx.session.get(schema.Monitor, row.monitor_id)
    if monitor is None:  # retrainings are deleted with their monitor
        raise NotFound(
            f"monitor {row.monitor_id} of retraining {row.id} not found",
            details={"monitor_id": row.monitor_id},
        )
    env = monitor.environment
    ctx.event(
        kind,
        workspace=env.workspace.name,
        environment=env.name,
        subject=f"monitor/{monitor.id}/retraining/{row.id}",
        data={
            "monitor": monitor.name,
            "retraining": row.id,
            "trigger": row.trigger,
            "rule": row.rule,
            "status": row.status,
            "reason": row.reason,
            "job_id": row.job_id,
            "version": row.version,
            "promotion_id": row.promotion_id,
        },
    )


def _fmt(at: datetime | None) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%dT%H:%M:%SZ")
