"""Rollout operations, and the steps their workflow takes (``tasks._rollout``).

Starting, pausing, resuming and aborting need ``endpoint.deploy`` in the endpoint's
environment; reading needs what reading the endpoint needs. The traffic changes go through
the endpoint service as the principal who started the rollout, so each is audited and moves
the endpoint's generation, which the routers follow.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.pages import Page
from modelwright.endpoints import models as em
from modelwright.endpoints import service as endpoints
from modelwright.endpoints.routing import routing_of
from modelwright.endpoints.stats import serving_stats
from modelwright.endpoints.stats_models import ServingStatsQuery
from modelwright.errors import Conflict, InvalidInput, NotFound
from modelwright.registry.service import available_version
from modelwright.registry.uri import model_uri
from modelwright.rollouts import models as m
from modelwright.store import schema
from modelwright.workflows import cancel, signal, start
from modelwright.workspaces.policy import parse_threshold

__all__ = [
    "abort_rollout",
    "analyse",
    "begin_rollout",
    "check_serving",
    "finish_rollout",
    "get_rollout",
    "list_rollouts",
    "pause_rollout",
    "resume_rollout",
    "shift",
    "start_rollout",
    "verify_routing",
]

# How long the routers have to serve a step (start the new deployment, swap their tables)
# before the rollout pauses, and to route as recorded after it ends before that is an error.
ROUTING_TIMEOUT = timedelta(seconds=120)

R = schema.Rollout
_ERROR_RATES = ("error_rate", "server_error_rate")


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
    ctx.session.add(row)
    ctx.session.flush()
    row.job_id = start(
        ctx.session,
        "rollout.run",
        {"rollout_id": row.id},
        started_by=ctx.caller.name,
        workspace=req.workspace,
        environment=req.environment,
        reason=f"roll out {req.deployment} on {req.endpoint}",
        key=f"rollout:{row.id}",
    )
    _record(ctx, row, "rollout.start")
    return _info(row)


def list_rollouts(ctx: Context, req: m.ListRollouts) -> Page[m.RolloutInfo]:
    """Newest first; only rollouts of endpoints the caller may see."""
    # Filters run in SQL, before the limit; only what the caller may see is decided here.
    E, Env, W = schema.Endpoint, schema.Environment, schema.Workspace
    query = select(R)
    if req.workspace is not None or req.environment is not None or req.endpoint is not None:
        chosen = (
            select(E.id).join(Env, E.environment_id == Env.id).join(W, Env.workspace_id == W.id)
        )
        if req.workspace is not None:
            chosen = chosen.where(W.name == req.workspace)
        if req.environment is not None:
            chosen = chosen.where(Env.name == req.environment)
        if req.endpoint is not None:
            chosen = chosen.where(E.name == req.endpoint)
        query = query.where(R.endpoint_id.in_(chosen))

    def sees(row: schema.Rollout) -> bool:
        env = row.endpoint.environment
        return endpoints.sees_endpoints(ctx, env.workspace.name, env.name)

    rows, token = keyset_page(
        ctx.session, query, [Key(R.id, descending=True)], req, scope="rollouts", visible=sees
    )
    return Page(items=[_info(row) for row in rows], next_page_token=token)


def get_rollout(ctx: Context, req: m.RolloutRef) -> m.RolloutInfo:
    return _info(_rollout(ctx, req.rollout_id))


def pause_rollout(ctx: Context, req: m.RolloutRef) -> m.RolloutInfo:
    """Holds the traffic where it is; the next analysis waits for ``resume``."""
    row = _for_change(ctx, req.rollout_id)
    if row.status != "running":
        raise Conflict(f"rollout {row.id} is {row.status}", details={"status": row.status})
    row.status, row.outcome, row.updated_at = "paused", f"paused by {ctx.caller.name}", utcnow()
    _record(ctx, row, "rollout.pause")
    return _info(row)


def resume_rollout(ctx: Context, req: m.RolloutRef) -> m.RolloutInfo:
    """Continues a paused rollout; the current step is baked and judged afresh."""
    row = _for_change(ctx, req.rollout_id)
    if row.status != "paused":
        raise Conflict(f"rollout {row.id} is {row.status}", details={"status": row.status})
    now = utcnow()
    row.status, row.outcome, row.window_start, row.updated_at = "running", "", now, now
    if row.job_id is not None:
        signal(ctx.session, row.job_id, "resume", {}, sent_by=ctx.caller.name)
    _record(ctx, row, "rollout.resume")
    return _info(row)


def abort_rollout(ctx: Context, req: m.RolloutRef) -> m.RolloutInfo:
    """All traffic back on the stable deployment at once; the new one is retired."""
    row = _for_change(ctx, req.rollout_id)
    if row.status not in m.ACTIVE:
        raise Conflict(f"rollout {row.id} is {row.status} already", details={"status": row.status})
    _back_to_stable(ctx, row)
    _end(row, "aborted", f"aborted by {ctx.caller.name} at {row.weight}%")
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
    _record(ctx, row, "rollout.abort")
    return _info(row)


# -- the workflow's steps ---------------------------------------------------------------------
def begin_rollout(ctx: Context, rollout_id: int) -> dict[str, Any]:
    """The new deployment, taking no traffic yet; the plan of steps."""
    row = _locked(ctx, rollout_id)
    if row.status in m.ACTIVE and not any(
        d.name == row.deployment for d in row.endpoint.deployments
    ):
        env = row.endpoint.environment
        endpoints.deploy(
            ctx,
            em.Deploy(
                workspace=env.workspace.name,
                environment=env.name,
                endpoint=row.endpoint.name,
                deployment=row.deployment,
                model=row.version.model.name,
                version=row.version.version,
                weight=0,
                config=em.ServingConfig.model_validate(row.config),
            ),
        )
    return {"steps": list(row.steps), "bake": row.bake_seconds}


def shift(ctx: Context, rollout_id: int, weight: int) -> str:
    """``weight`` percent on the new deployment, the rest on the stable one."""
    row = _locked(ctx, rollout_id)
    if row.status not in m.ACTIVE:
        return "stop"
    weights = {row.deployment: weight}
    if weight < 100:
        weights[row.stable] = 100 - weight
    _traffic(ctx, row, weights)
    now = utcnow()
    row.weight, row.window_start, row.updated_at = weight, now, now
    return "ok"


def check_serving(ctx: Context, rollout_id: int) -> str:
    """After a shift: ``ok`` once every live router serves the step as recorded (the bake's
    window starts then, so a slow start is not judged as no data), ``waiting``, ``paused``
    (the routers did not within ``ROUTING_TIMEOUT``) or ``stop``. With no router reporting
    (traffic served elsewhere), there is nothing to wait for."""
    row = _locked(ctx, rollout_id)
    if row.status != "running":
        return "stop" if row.status not in m.ACTIVE else "paused"
    live = routing_of(ctx, row.endpoint)
    now = utcnow()
    if live.state != "differs":
        row.window_start, row.updated_at = now, now
        return "ok"
    if now - (row.window_start or row.updated_at) < ROUTING_TIMEOUT:
        return "waiting"
    problems = "; ".join(f"router {r.router} {r.problem}" for r in live.routers if r.problem)
    row.history = [
        *row.history,
        {"weight": row.weight, "verdict": "not served", "at": now.isoformat(), "routers": problems},
    ]
    row.status, row.updated_at = "paused", now
    row.outcome = (
        f"not served at {row.weight}%: {problems} after {ROUTING_TIMEOUT.total_seconds():g} s; "
        "inconclusive, paused: resume once the routers serve it, or abort"
    )
    _record(ctx, row, "rollout.pause")
    return "paused"


def verify_routing(ctx: Context, rollout_id: int) -> str:
    """After the rollout ended: ``ok`` when every live router routes as the endpoint's record
    says (or none reports), ``waiting``, or ``mismatch`` when one still does not after
    ``ROUTING_TIMEOUT``: the rollout is then marked ``routing_mismatch``, loudly, because
    callers would otherwise believe a rollback that did not happen."""
    row = _locked(ctx, rollout_id)
    live = routing_of(ctx, row.endpoint)
    now = utcnow()
    if live.state == "differs" and now - (row.finished_at or now) < ROUTING_TIMEOUT:
        return "waiting"
    entry: dict[str, Any] = {
        "weight": row.weight,
        "verdict": f"routing {live.state}",
        "at": now.isoformat(),
    }
    if live.state == "matches":
        note = f"live routing verified on {len(live.routers)} router(s)"
    elif live.state == "unobserved":
        note = "no router reported its routing: live routing not verified"
    else:
        problems = "; ".join(f"router {r.router} {r.problem}" for r in live.routers if r.problem)
        entry["routers"] = problems
        note = f"LIVE ROUTING DIFFERS from the record: {problems}"
        row.status = "routing_mismatch"
    row.history = [*row.history, entry]
    row.outcome = f"{row.outcome}; {note}"
    row.updated_at = now
    _record(ctx, row, "rollout.verify")
    return "mismatch" if live.state == "differs" else "ok"


def analyse(ctx: Context, rollout_id: int) -> str:
    """Judge the current step on the new deployment's own requests since its window began:
    ``pass``, ``rolled_back`` (an alarm fired), ``paused`` (no data, or paused by someone:
    wait for resume) or ``stop`` (ended meanwhile)."""
    row = _locked(ctx, rollout_id)
    if row.status == "paused":
        return "paused"
    if row.status != "running":
        return "stop"
    env = row.endpoint.environment
    since = row.window_start or row.created_at
    until = utcnow()
    stats = serving_stats(
        ctx,
        ServingStatsQuery(
            workspace=env.workspace.name,
            environment=env.name,
            endpoint=row.endpoint.name,
            deployment=row.deployment,
            since=since,
            until=until,
        ),
    )
    mine = next(d for d in stats.deployments if d.deployment == row.deployment)
    figures = {s: getattr(mine, s) for s in m.SIGNALS}
    entry: dict[str, Any] = {
        "weight": row.weight,
        "since": since.isoformat(),
        "until": until.isoformat(),
        "requests": mine.requests,
        **figures,
    }
    short = not mine.has_data or mine.requests < row.min_requests
    certain = _certain_alarms(row, figures, mine.requests) if short else []
    if short and not certain:
        entry["verdict"] = "no data"
        row.history = [*row.history, entry]
        row.status = "paused"
        row.outcome = (
            f"no data at {row.weight}%: {mine.requests} request(s) reached '{row.deployment}' "
            f"between {since:%H:%M:%S} and {until:%H:%M:%S} (at least {row.min_requests} "
            "needed to judge); inconclusive, paused: resume to judge the step again, or abort"
        )
        row.updated_at = until
        _record(ctx, row, "rollout.pause")
        return "paused"
    fired = certain
    for text in [] if certain else row.alarms:
        alarm = parse_threshold(text)
        value = figures[alarm.metric]
        # The alarm's condition holding is the alarm firing.
        if value is not None and alarm.holds(float(value)):
            fired.append(f"{alarm} (was {value:g})")
    entry["verdict"] = "alarm" if fired else "pass"
    entry["fired"] = fired
    row.history = [*row.history, entry]
    row.updated_at = until
    if fired:
        _back_to_stable(ctx, row)
        _end(
            row,
            "rolled_back",
            f"rolled back at {entry['weight']}%: {'; '.join(fired)} over "
            f"{mine.requests} request(s) of '{row.deployment}' between {since:%H:%M:%S} and "
            f"{until:%H:%M:%S}",
        )
        _record(ctx, row, "rollout.rollback")
        return "rolled_back"
    return "pass"


def _certain_alarms(row: schema.Rollout, figures: dict[str, Any], requests: int) -> list[str]:
    """Error-rate alarms that hold in a window short of ``min_requests`` however the missing
    requests would end: counted as successes, the rate would still fire. Such a window is
    conclusive; pausing would leave a failing canary its traffic until someone resumes."""
    fired = []
    for text in row.alarms:
        alarm = parse_threshold(text)
        rate = figures.get(alarm.metric)
        if alarm.metric not in _ERROR_RATES or alarm.op not in (">", ">=") or not rate:
            continue
        best = rate * requests / max(requests, row.min_requests)
        if alarm.holds(best):
            fired.append(
                f"{alarm} (was {rate:g}; at least {best:g} whatever the other "
                f"{row.min_requests - requests} request(s) of the window would bring)"
            )
    return fired


def finish_rollout(ctx: Context, rollout_id: int) -> str:
    """All traffic on the new deployment; the old stable one is retired."""
    row = _locked(ctx, rollout_id)
    if row.status not in m.ACTIVE:
        return row.status
    _traffic(ctx, row, {row.deployment: 100})
    _retire(ctx, row, row.stable)
    row.weight = 100
    _end(row, "succeeded", f"'{row.deployment}' takes all the traffic; '{row.stable}' retired")
    _record(ctx, row, "rollout.finish")
    return "succeeded"


# -- helpers ----------------------------------------------------------------------------------
def _traffic(ctx: Context, row: schema.Rollout, weights: dict[str, int]) -> None:
    env = row.endpoint.environment
    endpoints.set_traffic(
        ctx,
        em.SetTraffic(
            workspace=env.workspace.name,
            environment=env.name,
            endpoint=row.endpoint.name,
            weights=weights,
        ),
    )


def _back_to_stable(ctx: Context, row: schema.Rollout) -> None:
    if not any(d.name == row.deployment for d in row.endpoint.deployments):
        return
    _traffic(ctx, row, {row.stable: 100})
    _retire(ctx, row, row.deployment)
    row.weight = 0


def _retire(ctx: Context, row: schema.Rollout, deployment: str) -> None:
    """Undeploy ``deployment`` (taking no traffic by now) if it is still there."""
    if not any(d.name == deployment for d in row.endpoint.deployments):
        return
    env = row.endpoint.environment
    endpoints.undeploy(
        ctx,
        em.DeploymentRef(
            workspace=env.workspace.name,
            environment=env.name,
            endpoint=row.endpoint.name,
            deployment=deployment,
        ),
    )


def _rollout(ctx: Context, rollout_id: int) -> schema.Rollout:
    row = ctx.session.scalar(select(R).where(R.id == rollout_id))
    if row is not None:
        env = row.endpoint.environment
        if endpoints.sees_endpoints(ctx, env.workspace.name, env.name):
            return row
    raise NotFound(f"rollout {rollout_id} not found", details={"rollout": rollout_id})


def _for_change(ctx: Context, rollout_id: int) -> schema.Rollout:
    row = _rollout(ctx, rollout_id)
    env = row.endpoint.environment
    ctx.require(Action.ENDPOINT_DEPLOY, env.workspace.name, env.name)
    return _locked(ctx, rollout_id)


def _locked(ctx: Context, rollout_id: int) -> schema.Rollout:
    row = ctx.session.scalar(select(R).where(R.id == rollout_id).with_for_update())
    if row is None:
        raise InvalidInput(f"rollout {rollout_id} does not exist", details={"rollout": rollout_id})
    return row


def _end(row: schema.Rollout, status: str, outcome: str) -> None:
    now: datetime = utcnow()
    row.status, row.outcome, row.updated_at, row.finished_at = status, outcome, now, now


def _tell_promotion(ctx: Context, row: schema.Rollout) -> None:
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


def _record(ctx: Context, row: schema.Rollout, action: str) -> None:
    if row.status not in m.ACTIVE:
        _tell_promotion(ctx, row)
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


def _info(row: schema.Rollout) -> m.RolloutInfo:
    env = row.endpoint.environment
    return m.RolloutInfo(
        id=row.id,
        workspace=env.workspace.name,
        environment=env.name,
        endpoint=row.endpoint.name,
        deployment=row.deployment,
        stable=row.stable,
        model=model_uri(row.version.model.name, row.version.version),
        strategy=row.strategy,
        steps=list(row.steps),
        bake_seconds=row.bake_seconds,
        alarms=list(row.alarms),
        min_requests=row.min_requests,
        status=row.status,
        weight=row.weight,
        outcome=row.outcome,
        started_by=row.started_by,
        reason=row.reason,
        job_id=row.job_id,
        history=list(row.history),
        created_at=row.created_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
    )
