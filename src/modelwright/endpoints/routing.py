"""Live routing: routers report the table they route by, and anyone who may read an endpoint
compares it with the endpoint's record.

A change to an endpoint moves its ``generation``; each router polls it, starts what is new,
then swaps its table. Until then the record and the traffic differ, and a router may fail to
start a deployment at all. Rollouts therefore check the routers' reports before a step's bake
starts (the new deployment serves) and after they end (all traffic where the record says),
instead of trusting the record alone. A router counts as live while its reports keep coming:
within three of its intervals (at least ``MIN_STALE`` seconds).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from modelwright.core.context import Context, utcnow
from modelwright.endpoints import routing_models as m
from modelwright.endpoints.service import _environment, endpoint_row
from modelwright.endpoints.stats import require_router
from modelwright.store import schema

__all__ = ["MIN_STALE", "endpoint_routing", "report_routing", "routing_of"]

MIN_STALE = 10.0
# Reports of routers silent for this long are deleted by the next report in the environment.
FORGET = timedelta(days=1)
RR = schema.RouterRoute


def report_routing(ctx: Context, req: m.ReportRouting) -> m.RoutingRecorded:
    """Replace this router's reported table (a router's identity or a platform admin)."""
    env = _environment(ctx, req.workspace, req.environment)
    require_router(ctx, req.workspace, env.name)
    now = utcnow()
    ctx.session.execute(
        delete(RR).where(
            RR.environment_id == env.id, (RR.router == req.router) | (RR.reported_at < now - FORGET)
        )
    )
    table = {e.endpoint: e for e in req.endpoints}
    for e in table.values():
        ctx.session.add(
            RR(
                environment_id=env.id,
                router=req.router,
                endpoint=e.endpoint,
                generation=e.generation,
                weights=dict(e.weights),
                ready=sorted(set(e.ready)),
                interval=req.interval,
                reported_at=now,
            )
        )
    ctx.session.flush()
    return m.RoutingRecorded(endpoints=len(table))


def endpoint_routing(ctx: Context, req: m.RoutingQuery) -> m.EndpointRouting:
    return routing_of(ctx, endpoint_row(ctx, req.workspace, req.environment, req.endpoint))


def routing_of(ctx: Context, endpoint: schema.Endpoint) -> m.EndpointRouting:
    """The record beside each live router's report of ``endpoint``."""
    now = utcnow()
    recorded = {d.name: d.weight for d in endpoint.deployments if d.weight > 0}
    rows = ctx.session.scalars(
        select(RR).where(RR.environment_id == endpoint.environment_id).order_by(RR.router)
    ).all()
    live = {
        r.router: r.reported_at
        for r in rows
        if r.reported_at >= now - timedelta(seconds=max(3 * r.interval, MIN_STALE))
    }
    mine = {r.router: r for r in rows if r.endpoint == endpoint.name and r.router in live}
    routers = []
    for name, reported_at in sorted(live.items()):
        row = mine.get(name)
        if row is None:  # the router has not applied the endpoint's creation yet
            routers.append(
                m.RouterRouting(
                    router=name,
                    reported_at=reported_at,
                    generation=0,
                    weights={},
                    ready=[],
                    serving={},
                    matches=False,
                    problem="does not route this endpoint yet",
                )
            )
            continue
        serving = {d: int(w) for d, w in row.weights.items() if w > 0 and d in row.ready}
        problem = ""
        if row.generation < endpoint.generation:
            problem = f"at generation {row.generation}, the record is at {endpoint.generation}"
        elif serving != recorded:
            problem = f"serves {_shares(serving)}, the record says {_shares(recorded)}"
        routers.append(
            m.RouterRouting(
                router=name,
                reported_at=row.reported_at,
                generation=row.generation,
                weights={d: int(w) for d, w in row.weights.items()},
                ready=list(row.ready),
                serving=serving,
                matches=not problem,
                problem=problem,
            )
        )
    if not routers:
        state = "unobserved"
    else:
        state = "matches" if all(r.matches for r in routers) else "differs"
    return m.EndpointRouting(
        endpoint=endpoint.name,
        generation=endpoint.generation,
        weights=recorded,
        routers=routers,
        state=state,
    )


def _shares(weights: dict[str, int]) -> str:
    return ", ".join(f"{d} {w}%" for d, w in sorted(weights.items())) or "nothing"
