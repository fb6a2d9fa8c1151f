"""The steps of a rollout's workflow (``tasks``' ``rollout.run``): the new deployment, each
shift of traffic, the checks that the routers follow it, the analysis of each bake, and the end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from modelwright.core.context import Context, utcnow
from modelwright.endpoints import models as em
from modelwright.endpoints import service as endpoints
from modelwright.endpoints.routing import routing_of
from modelwright.endpoints.stats import serving_stats
from modelwright.endpoints.stats_models import ServingStatsQuery
from modelwright.rollouts import models as m
from modelwright.rollouts._rows import (
    back_to_stable,
    end,
    endpoint_fields,
    locked,
    record,
    retire,
    traffic,
)
from modelwright.store import schema
from modelwright.workspaces.policy import parse_threshold

__all__ = [
    "ROUTING_TIMEOUT",
    "analyse",
    "begin_rollout",
    "check_serving",
    "finish_rollout",
    "shift",
    "verify_routing",
]

# How long the routers have to serve a step (start the new deployment, swap their tables)
# before the rollout pauses, and to route as recorded after it ends before that is an error.
ROUTING_TIMEOUT = timedelta(seconds=120)

_ERROR_RATES = ("error_rate", "server_error_rate")


def begin_rollout(ctx: Context, rollout_id: int) -> dict[str, Any]:
    """The new deployment, taking no traffic yet; the plan of steps."""
    row = locked(ctx, rollout_id)
    if row.status in m.ACTIVE and not any(
        d.name == row.deployment for d in row.endpoint.deployments
    ):
        endpoints.deploy(
            ctx,
            em.Deploy(
                **endpoint_fields(row),
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
    row = locked(ctx, rollout_id)
    if row.status not in m.ACTIVE:
        return "stop"
    weights = {row.deployment: weight}
    if weight < 100:
        weights[row.stable] = 100 - weight
    traffic(ctx, row, weights)
    now = utcnow()
    row.weight, row.window_start, row.updated_at = weight, now, now
    return "ok"


def check_serving(ctx: Context, rollout_id: int) -> str:
    """After a shift: ``ok`` once every live router serves the step as recorded (the bake's
    window starts then, so a slow start is not judged as no data), ``waiting``, ``paused``
    (the routers did not within ``ROUTING_TIMEOUT``) or ``stop``. With no router reporting
    (traffic served elsewhere), there is nothing to wait for."""
    row = locked(ctx, rollout_id)
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
    record(ctx, row, "rollout.pause")
    return "paused"


def verify_routing(ctx: Context, rollout_id: int) -> str:
    """After the rollout ended: ``ok`` when every live router routes as the endpoint's record
    says (or none reports), ``waiting``, or ``mismatch`` when one still does not after
    ``ROUTING_TIMEOUT``: the rollout is then marked ``routing_mismatch``, loudly, because
    callers would otherwise believe a rollback that did not happen."""
    row = locked(ctx, rollout_id)
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
    record(ctx, row, "rollout.verify")
    return "mismatch" if live.state == "differs" else "ok"


def analyse(ctx: Context, rollout_id: int) -> str:
    """Judge the current step on the new deployment's own requests since its window began:
    ``pass``, ``rolled_back`` (an alarm fired), ``paused`` (no data, or paused by someone:
    wait for resume) or ``stop`` (ended meanwhile)."""
    row = locked(ctx, rollout_id)
    if row.status == "paused":
        return "paused"
    if row.status != "running":
        return "stop"
    since = row.window_start or row.created_at
    until = utcnow()
    stats = serving_stats(
        ctx,
        ServingStatsQuery(
            **endpoint_fields(row),
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
        record(ctx, row, "rollout.pause")
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
        back_to_stable(ctx, row)
        end(
            row,
            "rolled_back",
            f"rolled back at {entry['weight']}%: {'; '.join(fired)} over "
            f"{mine.requests} request(s) of '{row.deployment}' between {since:%H:%M:%S} and "
            f"{until:%H:%M:%S}",
        )
        record(ctx, row, "rollout.rollback")
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
    row = locked(ctx, rollout_id)
    if row.status not in m.ACTIVE:
        return row.status
    traffic(ctx, row, {row.deployment: 100})
    retire(ctx, row, row.stable)
    row.weight = 100
    end(row, "succeeded", f"'{row.deployment}' takes all the traffic; '{row.stable}' retired")
    record(ctx, row, "rollout.finish")
    return "succeeded"
