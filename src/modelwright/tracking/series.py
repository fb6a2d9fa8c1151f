"""A metric's series, whole or thinned for a chart in the database.

A chart is a few hundred pixels wide: a million points would be read, sent and drawn for
nothing. Thinned, the steps fall into buckets of equal width and the database answers each
bucket's smallest and largest value in one pass over the series (one ``GROUP BY``), so that
no point leaves it but those drawn, and a spike survives however long the series.

That pass still reads every point (about a second for a million on a busy two-core
machine). A run that has ended takes no more points, so when it ends each series longer
than ``OUTLINE_FROM`` points is thinned once to ``OUTLINE_POINTS`` and stored (its
outline): a chart of it re-thins those few thousand points, in any process. A series
without an outline (a run that was killed or lost) is thinned from every point, and that
answer is kept in the process (the last ``KEPT`` of them), so the next chart of it costs
nothing.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy import case, delete, func, select

from modelwright.core.context import Context
from modelwright.errors import NotFound
from modelwright.store import schema
from modelwright.tracking import models as m

__all__ = ["KEPT", "OUTLINE_FROM", "OUTLINE_POINTS", "outline", "series"]

_M = schema.RunMetric
KEPT = 64
OUTLINE_FROM = 20_000
OUTLINE_POINTS = 8_192
_kept: OrderedDict[tuple[str, ...], m.MetricHistory] = OrderedDict()
_lock = threading.Lock()


def series(ctx: Context, run: schema.Run, key: str, max_points: int | None) -> m.MetricHistory:
    """Every point of the run's metric ``key`` by step, or at most ``max_points`` of them."""
    if max_points is None or run.status == "running":
        return _read(ctx, run.id, key, max_points)
    if max_points <= OUTLINE_POINTS:
        kept = ctx.session.get(schema.MetricOutline, (run.id, key))
        if kept is not None:
            return _rethinned(key, kept, max_points)
    # The database is part of the name (a process may hold several platforms), and so is the
    # run's start (a run id chosen by its caller may name a new run once the old is gone).
    url = str(ctx.session.get_bind().engine.url)
    name = (url, run.id, run.started_at.isoformat(), key, str(max_points))
    with _lock:
        if name in _kept:
            _kept.move_to_end(name)
            return _kept[name]
    found = _read(ctx, run.id, key, max_points)
    with _lock:
        _kept[name] = found
        while len(_kept) > KEPT:
            _kept.popitem(last=False)
    return found


def outline(ctx: Context, run_id: str) -> None:
    """Store the outline of each of the ended run's series longer than ``OUTLINE_FROM``."""
    long = ctx.session.execute(
        select(_M.key)
        .where(_M.run_id == run_id)
        .group_by(_M.key)
        .having(func.count() > OUTLINE_FROM)
    ).scalars()
    ctx.session.execute(delete(schema.MetricOutline).where(schema.MetricOutline.run_id == run_id))
    for key in list(long):
        found = _read(ctx, run_id, key, OUTLINE_POINTS)
        ctx.session.add(
            schema.MetricOutline(
                run_id=run_id,
                key=key,
                total=found.total,
                points={
                    "steps": found.steps,
                    # JSON has no NaN: a gap is null.
                    "values": [None if math.isnan(v) else v for v in found.values],
                    "timestamps": found.timestamps,
                },
            )
        )
    ctx.session.flush()


def _rethinned(key: str, kept: schema.MetricOutline, max_points: int) -> m.MetricHistory:
    """The outline thinned again: in each of ``max_points // 2`` buckets of equal width its
    lowest and highest point, in the order of their steps. Extremes survive thinning twice;
    a point may sit up to one outline bucket (a 4,096th of the steps) from its own step."""
    steps: list[int] = kept.points["steps"]
    values = [math.nan if v is None else float(v) for v in kept.points["values"]]
    stamps: list[int] = kept.points["timestamps"]
    chosen: list[int] = []
    if steps:
        width = max(1, -(-(steps[-1] - steps[0] + 1) // max(1, max_points // 2)))
        buckets: dict[int, list[int]] = {}
        for i, step in enumerate(steps):
            buckets.setdefault((step - steps[0]) // width, []).append(i)
        for members in buckets.values():
            chosen += _extremes(values, members)
    return m.MetricHistory(
        key=key,
        values=[values[i] for i in chosen],
        steps=[steps[i] for i in chosen],
        timestamps=[stamps[i] for i in chosen],
        total=kept.total,
    )


def _extremes(values: list[float], members: list[int]) -> list[int]:
    """The indices of the bucket's lowest and highest value, in order; its first index alone
    when it holds only gaps (NaN) or one value."""
    shown = [i for i in members if not math.isnan(values[i])]
    if not shown:
        return members[:1]
    low = min(shown, key=values.__getitem__)
    high = max(shown, key=values.__getitem__)
    return sorted({low, high})


def _read(ctx: Context, run_id: str, key: str, max_points: int | None) -> m.MetricHistory:
    where = (_M.run_id == run_id, _M.key == key)
    if max_points is None:
        rows = ctx.session.execute(
            select(_M.value, _M.is_nan, _M.step, _M.timestamp)
            .where(*where)
            .order_by(_M.step, _M.timestamp, _M.id)
        ).all()
        if not rows:
            raise _missing(run_id, key)
        return m.MetricHistory(
            key=key,
            values=[math.nan if r.is_nan else r.value for r in rows],
            steps=[r.step for r in rows],
            timestamps=[r.timestamp for r in rows],
            total=len(rows),
        )
    # Each bound is one probe of the (run_id, key, step) index.
    low = ctx.session.scalar(select(func.min(_M.step)).where(*where))
    high = ctx.session.scalar(select(func.max(_M.step)).where(*where))
    if low is None or high is None:
        raise _missing(run_id, key)
    return _thinned(ctx, key, where, low=low, high=high, max_points=max_points)


def _thinned(
    ctx: Context, key: str, where: tuple[Any, ...], *, low: int, high: int, max_points: int
) -> m.MetricHistory:
    buckets = max(1, max_points // 2)
    width = max(1, -(-(high - low + 1) // buckets))  # steps per bucket, rounded up
    bucket = ((_M.step - low) // width).label("bucket")
    value = case((_M.is_nan.is_(True), None), else_=_M.value)  # NaN is a gap, not a value
    rows = ctx.session.execute(
        select(
            bucket,
            func.min(value),
            func.max(value),
            func.avg(value),
            func.min(_M.step),
            func.max(_M.step),
            func.min(_M.timestamp),
            func.max(_M.timestamp),
            func.count(),
        )
        .where(*where)
        .group_by(bucket)
        .order_by(bucket)
    ).all()
    steps: list[int] = []
    values: list[float] = []
    stamps: list[int] = []
    means = [r[3] for r in rows]
    for i, (_, low_v, high_v, _mean, first, last, t0, t1, _n) in enumerate(rows):
        if low_v is None:  # only NaN in the bucket
            steps.append(first)
            values.append(math.nan)
            stamps.append(t0)
        elif low_v == high_v:
            steps.append(first)
            values.append(low_v)
            stamps.append(t0)
        else:
            # Which of the two came first is not kept: the series' way at this bucket (its
            # neighbours' means) decides, so that a falling loss is drawn falling.
            falling = _falling(means, i)
            steps += [first, last]
            values += [high_v, low_v] if falling else [low_v, high_v]
            stamps += [t0, t1]
    return m.MetricHistory(
        key=key, values=values, steps=steps, timestamps=stamps, total=sum(r[8] for r in rows)
    )


def _falling(means: list[float | None], i: int) -> bool:
    before = next((v for v in reversed(means[:i]) if v is not None), None)
    after = next((v for v in means[i + 1 :] if v is not None), None)
    if before is None or after is None:
        here = means[i]
        before = here if before is None else before
        after = here if after is None else after
    return before is not None and after is not None and after < before


def _missing(run_id: str, key: str) -> NotFound:
    return NotFound(f"run '{run_id}' has no metric '{key}'", details={"run_id": run_id, "key": key})
