"""Serving statistics: routers record per-deployment counts; rollouts, monitors and people read
them, summed over however many routers serve an endpoint.

Each router flushes what it counted every few seconds as one ``RecordServingStats``: a row per
(endpoint, deployment) it saw requests for, keyed by (router instance, flush number), so a
flush sent again after a lost answer adds nothing. Recording is for the routers' identity,
by the rule of ``authorize_invoke``: a service account allowed to ``endpoint.deploy`` in the
environment, or a platform admin. Reading needs what reading the endpoint needs.

A row counts in a window when its interval ended in it (``since < end <= until``), so
adjacent windows never count a row twice. Rows older than
``Settings.serving_stats_retention_hours`` are deleted by the writes of the same environment
(an indexed delete per flush): no worker or schedule needs to run for them to go.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select

from modelwright.core.actions import Action
from modelwright.core.context import Context, utcnow
from modelwright.endpoints import stats_models as m
from modelwright.endpoints.service import _environment, endpoint_row
from modelwright.errors import InvalidInput, PermissionDenied
from modelwright.store import schema
from modelwright.store.db import insert_missing

__all__ = ["record_serving_stats", "require_router", "serving_stats", "serving_stats_series"]

T = schema.serving_stats
_BUCKET_COLUMNS = [T.c[name] for name in schema.SERVING_LATENCY_COLUMNS]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
MAX_POINTS = 10_000


def _ms(at: datetime) -> int:
    return (_utc(at) - _EPOCH) // _MS


def _at(ms: int) -> datetime:
    return _EPOCH + ms * _MS


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


# -- recording ---------------------------------------------------------------------------------
def require_router(ctx: Context, workspace: str, environment: str) -> None:
    """The rule of ``authorize_invoke``: a router's service account or a platform admin."""
    ctx.require(Action.ENDPOINT_DEPLOY, workspace, environment)
    me = ctx.session.get(schema.Principal, ctx.caller.principal_id)
    if (me is None or me.kind != "service") and not ctx.is_platform_admin():
        raise PermissionDenied(
            f"principal '{ctx.caller.name}' may not record serving statistics: only a "
            "router's service account (kind 'service', with endpoint.deploy there) or a "
            "platform admin may",
            details={"principal": ctx.caller.name, "action": "endpoint.stats.record"},
        )


def record_serving_stats(ctx: Context, req: m.RecordServingStats) -> m.StatsRecorded:
    env = _environment(ctx, req.workspace, req.environment)
    require_router(ctx, req.workspace, env.name)
    found = ctx.session.execute(
        select(schema.Endpoint.name, schema.Endpoint.id).where(
            schema.Endpoint.environment_id == env.id
        )
    ).all()
    endpoints: dict[str, int] = {row[0]: row[1] for row in found}  # Row typing: 2.0 and 2.1
    unknown = sorted({r.endpoint for r in req.rows} - endpoints.keys())
    seen = ctx.session.scalar(
        select(T.c.seq).where(T.c.router == req.router, T.c.seq == req.seq).limit(1)
    )
    rows: list[dict[str, Any]] = []
    if seen is None:
        rows = _rows(req, endpoints)
        insert_missing(ctx.session, T, rows)
    _prune(ctx, list(endpoints.values()))
    return m.StatsRecorded(rows=len(rows), duplicate=seen is not None, unknown_endpoints=unknown)


def _rows(req: m.RecordServingStats, endpoints: dict[str, int]) -> list[dict[str, Any]]:
    """The flush's rows as table rows, those of one (endpoint, deployment) summed."""
    merged: dict[tuple[int, str], dict[str, Any]] = {}
    start, end = _ms(req.started_at), _ms(req.ended_at)
    for r in req.rows:
        endpoint_id = endpoints.get(r.endpoint)
        if endpoint_id is None:
            continue
        key = (endpoint_id, r.deployment or "")
        row = merged.setdefault(key, _empty_row(req, endpoint_id, key[1], start, end))
        row["requests"] += r.requests
        row["client_errors"] += r.client_errors
        row["server_errors"] += r.server_errors
        row["shed"] += r.shed
        row["latency_sum_ms"] += r.latency_sum_ms
        for name, count in zip(schema.SERVING_LATENCY_COLUMNS, r.latency_buckets, strict=True):
            row[name] += count
    return list(merged.values())


def _empty_row(
    req: m.RecordServingStats, endpoint_id: int, deployment: str, start: int, end: int
) -> dict[str, Any]:
    counts = ("requests", "client_errors", "server_errors", "shed", *schema.SERVING_LATENCY_COLUMNS)
    return {
        "router": req.router,
        "seq": req.seq,
        "endpoint_id": endpoint_id,
        "deployment": deployment,
        "start_ms": start,
        "end_ms": end,
        "latency_sum_ms": 0.0,
        **dict.fromkeys(counts, 0),
    }


def _prune(ctx: Context, endpoint_ids: list[int]) -> None:
    if not endpoint_ids:
        return
    retention = timedelta(hours=ctx.settings.serving_stats_retention_hours)
    cutoff = _ms(utcnow() - retention)
    ctx.session.execute(delete(T).where(T.c.endpoint_id.in_(endpoint_ids), T.c.end_ms < cutoff))


# -- reading -----------------------------------------------------------------------------------
def _window(req: m.ServingStatsQuery) -> tuple[datetime, datetime]:
    until = _utc(req.until) if req.until is not None else utcnow()
    since = _utc(req.since) if req.since is not None else until - timedelta(hours=1)
    if since > until:
        raise InvalidInput(
            f"since: {since.isoformat()} is after until {until.isoformat()}",
            details={"field": "since"},
        )
    return since, until


def _sums() -> list[ColumnElement[Any]]:
    return [
        func.sum(T.c.requests),
        func.sum(T.c.client_errors),
        func.sum(T.c.server_errors),
        func.sum(T.c.shed),
        func.sum(T.c.latency_sum_ms),
        func.min(T.c.start_ms),
        func.max(T.c.end_ms),
        *(func.sum(c) for c in _BUCKET_COLUMNS),
    ]


class _Totals:
    """Summed columns of some rows (``_sums`` order)."""

    def __init__(self, values: Sequence[Any] = ()) -> None:
        v = list(values) or [0, 0, 0, 0, 0.0, None, None, *[0] * len(_BUCKET_COLUMNS)]
        self.requests, self.client, self.server, self.shed = (int(x or 0) for x in v[:4])
        self.latency_sum = float(v[4] or 0.0)
        self.first, self.last = v[5], v[6]
        self.buckets = [int(x or 0) for x in v[7:]]

    def add(self, other: _Totals) -> None:
        self.requests += other.requests
        self.client += other.client
        self.server += other.server
        self.shed += other.shed
        self.latency_sum += other.latency_sum
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        for name, pick in (("first", min), ("last", max)):
            mine, theirs = getattr(self, name), getattr(other, name)
            known = [x for x in (mine, theirs) if x is not None]
            setattr(self, name, pick(known) if known else None)

    def summary(self) -> dict[str, Any]:
        n = self.requests
        timed = sum(self.buckets)
        return {
            "has_data": n > 0,
            "requests": n,
            "errors": m.ErrorCounts(client=self.client, server=self.server, shed=self.shed),
            "error_rate": (self.client + self.server + self.shed) / n if n else None,
            "server_error_rate": (self.server + self.shed) / n if n else None,
            "mean_ms": self.latency_sum / timed if timed else None,
            "p50_ms": quantile(self.buckets, 0.5),
            "p90_ms": quantile(self.buckets, 0.9),
            "p99_ms": quantile(self.buckets, 0.99),
            "first_at": None if self.first is None else _at(int(self.first)),
            "last_at": None if self.last is None else _at(int(self.last)),
        }


def quantile(buckets: Sequence[int], q: float) -> float | None:
    """The ``q`` quantile of a histogram, interpolated in its bucket as Prometheus's
    ``histogram_quantile`` does; in the last (unbounded) bucket, the largest bound."""
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    bounds = m.LATENCY_BOUNDS_MS
    for i, count in enumerate(buckets):
        if count and seen + count >= rank:
            if i >= len(bounds):
                return float(bounds[-1])
            lower = float(bounds[i - 1]) if i else 0.0
            return lower + (float(bounds[i]) - lower) * (rank - seen) / count
        seen += count
    return float(bounds[-1])


def _scope(req: m.ServingStatsQuery, endpoint_id: int, since: datetime, until: datetime) -> Any:
    where = [T.c.endpoint_id == endpoint_id, T.c.end_ms > _ms(since), T.c.end_ms <= _ms(until)]
    if req.deployment is not None:
        where.append(T.c.deployment == req.deployment)
    return where


def _name(deployment: str) -> str | None:
    return deployment or None


def serving_stats(ctx: Context, req: m.ServingStatsQuery) -> m.ServingStats:
    """Per-deployment totals of an endpoint in a window. Every current deployment (or the one
    asked for) is listed, with ``has_data`` false when no request of it was recorded."""
    row = endpoint_row(ctx, req.workspace, req.environment, req.endpoint)
    since, until = _window(req)
    found = ctx.session.execute(
        select(T.c.deployment, func.count(T.c.router.distinct()), *_sums())
        .where(*_scope(req, row.id, since, until))
        .group_by(T.c.deployment)
    ).all()
    by_name = {r[0]: (int(r[1]), _Totals(r[2:])) for r in found}
    wanted = [req.deployment] if req.deployment is not None else [d.name for d in row.deployments]
    names = _ordered(wanted, by_name)
    total = _Totals()
    listed = []
    for name in names:
        routers, totals = by_name.get(name, (0, _Totals()))
        total.add(totals)
        buckets = [
            m.LatencyBucket(le_ms=float(b) if i < len(m.LATENCY_BOUNDS_MS) else None, count=c)
            for i, (b, c) in enumerate(zip((*m.LATENCY_BOUNDS_MS, 0), totals.buckets, strict=True))
        ]
        listed.append(
            m.DeploymentStats(
                deployment=_name(name), routers=routers, latency_buckets=buckets, **totals.summary()
            )
        )
    return m.ServingStats(
        **_about(req, since, until),
        total=m.StatsSummary(**total.summary()),
        deployments=listed,
    )


def _about(req: m.ServingStatsQuery, since: datetime, until: datetime) -> dict[str, Any]:
    """What an answer is about: the endpoint and the window it covers."""
    return {
        "workspace": req.workspace,
        "environment": req.environment,
        "endpoint": req.endpoint,
        "since": since,
        "until": until,
    }


def _ordered(wanted: Iterable[str], found: Iterable[str]) -> list[str]:
    """The deployments asked for or current first, then others with data; unrouted last."""
    names = list(dict.fromkeys(wanted))
    names += sorted(n for n in found if n not in names and n)
    if "" in found and "" not in names:
        names.append("")
    return names


def serving_stats_series(ctx: Context, req: m.ServingStatsSeriesQuery) -> m.ServingStatsSeries:
    """The same totals per step of ``step_seconds`` (aligned to the epoch), per deployment;
    steps without data are left out."""
    row = endpoint_row(ctx, req.workspace, req.environment, req.endpoint)
    since, until = _window(req)
    step = req.step_seconds * 1000
    points = (_ms(until) - _ms(since)) // step + 2
    if points > MAX_POINTS:
        raise InvalidInput(
            f"step_seconds: {req.step_seconds} s makes {points} points over the window, more "
            f"than the {MAX_POINTS} allowed; take a longer step or a shorter window",
            details={"field": "step_seconds"},
        )
    # A row ending exactly on a step's boundary belongs to the step before: (at, at + step].
    slot = ((T.c.end_ms - 1) // step).label("slot")
    found = ctx.session.execute(
        select(T.c.deployment, slot, *_sums())
        .where(*_scope(req, row.id, since, until))
        .group_by(T.c.deployment, slot)
        .order_by(slot, T.c.deployment)
    ).all()
    out = [
        m.SeriesPoint(deployment=_name(r[0]), at=_at(int(r[1]) * step), **_Totals(r[2:]).summary())
        for r in found
    ]
    return m.ServingStatsSeries(
        **_about(req, since, until),
        step_seconds=req.step_seconds,
        points=out,
    )
