"""A rollout's row: finding it, moving its endpoint's traffic, ending it, recording its
changes and rendering it (shared by the operations and the workflow's steps)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.models import from_row
from modelwright.endpoints import models as em
from modelwright.endpoints import service as endpoints
from modelwright.errors import Conflict, InvalidInput, NotFound
from modelwright.registry.uri import model_uri
from modelwright.rollouts import models as m
from modelwright.store import schema
from modelwright.workflows import signal

__all__ = [
    "R",
    "back_to_stable",
    "end",
    "endpoint_fields",
    "for_change",
    "info",
    "locked",
    "record",
    "retire",
    "rollout_row",
    "tell_promotion",
    "traffic",
]

R = schema.Rollout


def endpoint_fields(row: schema.Rollout) -> dict[str, Any]:
    """The rollout's endpoint, as the fields of a request to the endpoint operations."""
    env = row.endpoint.environment
    return {"workspace": env.workspace.name, "environment": env.name, "endpoint": row.endpoint.name}


def traffic(ctx: Context, row: schema.Rollout, weights: dict[str, int]) -> None:
    endpoints.set_traffic(ctx, em.SetTraffic(**endpoint_fields(row), weights=weights))


def back_to_stable(ctx: Context, row: schema.Rollout) -> None:
    if not any(d.name == row.deployment for d in row.endpoint.deployments):
        return
    traffic(ctx, row, {row.stable: 100})
    retire(ctx, row, row.deployment)
    row.weight = 0


def retire(ctx: Context, row: schema.Rollout, deployment: str) -> None:
    """Undeploy ``deployment`` (taking no traffic by now) if it is still there."""
    if not any(d.name == deployment for d in row.endpoint.deployments):
        return
    endpoints.undeploy(ctx, em.DeploymentRef(**endpoint_fields(row), deployment=deployment))


def rollout_row(ctx: Context, rollout_id: int) -> schema.Rollout:
    row = ctx.session.scalar(select(R).where(R.id == rollout_id))
    if row is not None:
        env = row.endpoint.environment
        if endpoints.sees_endpoints(ctx, env.workspace.name, env.name):
            return row
    raise NotFound(f"rollout {rollout_id} not found", details={"rollout": rollout_id})


def for_change(ctx: Context, rollout_id: int) -> schema.Rollout:
    row = rollout_row(ctx, rollout_id)
    env = row.endpoint.environment
    ctx.require(Action.ENDPOINT_DEPLOY, env.workspace.name, env.name)
    return locked(ctx, rollout_id)


def locked(ctx: Context, rollout_id: int) -> schema.Rollout:
    row = ctx.session.scalar(select(R).where(R.id == rollout_id).with_for_update())
    if row is None:
        raise InvalidInput(f"rollout {rollout_id} does not exist", details={"rollout": rollout_id})
    return row


def end(row: schema.Rollout, status: str, outcome: str) -> None:
    now: datetime = utcnow()
    row.status, row.outcome, row.updated_at, row.finished_at = status, outcome, now, now


def tell_promotion(ctx: Context, row: schema.Rollout) -> None:
    """A rollout that is a promotion's last gate wakes the promotion when it ends."""
    promotion = ctx.session.scalar(
        select(schema.Promotion).where(
            schema.Promotion.rollout_id == row.id, schema.Promotion.status == "rolling_out"
        )
    )
    if promotion is None or promotion.job_id is None:
        return
    # A Conflict: the promotion's job ended meanwhile (cancelled), nothing to wake.
    with contextlib.suppress(Conflict):
        signal(ctx.session, promotion.job_id, "rollout", {"status": row.status}, sent_by="rollout")


def record(ctx: Context, row: schema.Rollout, action: str) -> None:
    if row.status not in m.ACTIVE:
        tell_promotion(ctx, row)
    env = row.endpoint.environment
    state = {"status": row.status, "weight": row.weight, "outcome": row.outcome}
    ctx.audit(
        action,
        workspace=env.workspace.name,
        environment=env.name,
        target=f"rollout:{row.id}",
        after={"endpoint": row.endpoint.name, "deployment": row.deployment, **state},
    )
    ctx.event(
        "rollout.changed",
        workspace=env.workspace.name,
        environment=env.name,
        subject=f"rollout/{row.id}",
        data={"rollout": row.id, "endpoint": row.endpoint.name, "action": action, **state},
    )


def info(row: schema.Rollout) -> m.RolloutInfo:
    env = row.endpoint.environment
    return from_row(
        m.RolloutInfo,
        row,
        workspace=env.workspace.name,
        environment=env.name,
        endpoint=row.endpoint.name,
        model=model_uri(row.version.model.name, row.version.version),
    )
