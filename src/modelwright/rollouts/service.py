"""Rollout operations; the steps their workflow takes (``tasks._rollout``) are in
``rollouts.steps``.

Starting, pausing, resuming and aborting need ``endpoint.deploy`` in the endpoint's
environment; reading needs what reading the endpoint needs. The traffic changes go through
the endpoint service as the principal who started the rollout, so each is audited and moves
the endpoint's generation, which the routers follow.
"""

from __future__ import annotations

from operator import eq

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.filters import where_given
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lookup import check_scope
from modelwright.core.pages import Page
from modelwright.endpoints import service as endpoints
from modelwright.errors import Conflict
from modelwright.registry.service import available_version
from modelwright.rollouts import models as m
from modelwright.rollouts._rows import (
    R,
    back_to_stable,
    end,
    for_change,
    info,
    record,
    rollout_row,
)
from modelwright.store import schema
from modelwright.workflows import cancel, signal, start, start_for

__all__ = [
    "abort_rollout",
    "get_rollout",
    "list_rollouts",
    "pause_rollout",
    "resume_rollout",
    "start_rollout",
]


# -- operations -------------------------------------------------------------------------------
def start_rollout(ctx: Context, req: m.StartRollout) -> m.RolloutInfo:
    ctx.require(Action.ENDPOINT_DEPLOY, req.workspace, req.environment)
    endpoint = endpoints.endpoint_row(ctx, req.workspace, req.environment, req.endpoint)
    version = available_version(ctx, endpoint.environment, req.model, req.version)
    busy = ctx.session.scalar(
        select(R.id).where(R.endpoint_id == endpoint.id, R.status.in_(m.ACTIVE))
    )
    if busy is not None:
        raise Conflict(
            f"rollout {busy} on endpoint '{req.endpoint}' is in progress: finish or abort it first",
            details={"rollout": busy},
        )
    live = [d for d in endpoint.deployments if d.weight > 0]
    if len(live) != 1:
        raise Conflict(
            f"endpoint '{req.endpoint}' must have one deployment taking all the traffic to roll "
            f"out from (it has: {', '.join(f'{d.name} {d.weight}%' for d in live) or 'none'})",
            details={"endpoint": req.endpoint},
        )
    if any(d.name == req.deployment for d in endpoint.deployments):
        raise Conflict(
            f"deployment '{req.deployment}' exists on endpoint '{req.endpoint}': a rollout "
            "brings a new one",
            details={"deployment": req.deployment},
        )
    now = utcnow()
    row = R(
        endpoint_id=endpoint.id,
        deployment=req.deployment,
        stable=live[0].name,
        version_id=version.id,
        strategy=req.strategy,
        steps=list(req.steps or []),
        bake_seconds=req.bake_seconds,
        alarms=req.alarms,
        min_requests=req.min_requests,
        config=req.config.model_dump(mode="json"),
        status="running",
        weight=0,
        outcome="",
        reason=req.reason,
        started_by=ctx.caller.name,
        history=[],
        created_at=now,
        updated_at=now,
    )
    start_for(
        ctx.session,
        row,
        "rollout",
        "rollout.run",
        started_by=ctx.caller.name,
        workspace=req.workspace,
        environment=req.environment,
        reason=f"roll out {req.deployment} on {req.endpoint}",
    )
    record(ctx, row, "rollout.start")
    return info(row)


def list_rollouts(ctx: Context, req: m.ListRollouts) -> Page[m.RolloutInfo]:
    """Newest first; only rollouts of endpoints the caller may see."""
    # Filters run in SQL, before the limit; only what the caller may see is decided here.
    check_scope(ctx, req.workspace, req.environment)
    E, Env, W = schema.Endpoint, schema.Environment, schema.Workspace
    query = select(R)
    if req.workspace is not None or req.environment is not None or req.endpoint is not None:
        chosen = where_given(
            select(E.id).join(Env, E.environment_id == Env.id).join(W, Env.workspace_id == W.id),
            (W.name, eq, req.workspace),
            (Env.name, eq, req.environment),
            (E.name, eq, req.endpoint),
        )
        query = query.where(R.endpoint_id.in_(chosen))

    def sees(row: schema.Rollout) -> bool:
        env = row.endpoint.environment
        return endpoints.sees_endpoints(ctx, env.workspace.name, env.name)

    rows, token = keyset_page(
        ctx.session, query, [Key(R.id, descending=True)], req, scope="rollouts", visible=sees
    )
    return Page(items=[info(row) for row in rows], next_page_token=token)


def get_rollout(ctx: Context, req: m.RolloutRef) -> m.RolloutInfo:
    return info(rollout_row(ctx, req.rollout_id))


def pause_rollout(ctx: Context, req: m.RolloutRef) -> m.RolloutInfo:
    """Holds the traffic where it is; the next analysis waits for ``resume``."""
    row = for_change(ctx, req.rollout_id)
    if row.status != "running":
        raise Conflict(f"rollout {row.id} is {row.status}", details={"status": row.status})
    row.status, row.outcome, row.updated_at = "paused", f"paused by {ctx.caller.name}", utcnow()
    record(ctx, row, "rollout.pause")
    return info(row)


def resume_rollout(ctx: Context, req: m.RolloutRef) -> m.RolloutInfo:
    """Continues a paused rollout; the current step is baked and judged afresh."""
    row = for_change(ctx, req.rollout_id)
    if row.status != "paused":
        raise Conflict(f"rollout {row.id} is {row.status}", details={"status": row.status})
    now = utcnow()
    row.status, row.outcome, row.window_start, row.updated_at = "running", "", now, now
    if row.job_id is not None:
        signal(ctx.session, row.job_id, "resume", {}, sent_by=ctx.caller.name)
    record(ctx, row, "rollout.resume")
    return info(row)


def abort_rollout(ctx: Context, req: m.RolloutRef) -> m.RolloutInfo:
    """All traffic back on the stable deployment at once; the new one is retired."""
    row = for_change(ctx, req.rollout_id)
    if row.status not in m.ACTIVE:
        raise Conflict(f"rollout {row.id} is {row.status} already", details={"status": row.status})
    back_to_stable(ctx, row)
    end(row, "aborted", f"aborted by {ctx.caller.name} at {row.weight}%")
    if row.job_id is not None:
        cancel(ctx.session, row.job_id, by=ctx.caller.name)
    # The routers must follow the abort too: a job checks, as the rollout's own would have.
    env = row.endpoint.environment
    start(
        ctx.session,
        "rollout.verify",
        {"rollout_id": row.id},
        started_by=ctx.caller.name,
        workspace=env.workspace.name,
        environment=env.name,
        reason=f"check the routing after aborting rollout {row.id}",
        key=f"rollout-verify:{row.id}",
    )
    record(ctx, row, "rollout.abort")
    return info(row)
