"""Leaderboards: versions ranked by a metric, the one their runs logged or scores the caller
computed on a holdout (where the models are), and the challenger alias moved to the winner
in the same transaction."""

from __future__ import annotations

import math

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.core.lookup import get_environment
from modelwright.registry import models as m
from modelwright.registry._lookup import (
    available_version,
    readable_model,
    version_infos,
    visible_versions,
)
from modelwright.registry.aliases import move_alias
from modelwright.store import schema

__all__ = ["leaderboard", "lower_is_better", "rank", "rank_versions"]

# Metric names for which smaller is better, unless the caller says otherwise.
_LOWER_IS_BETTER = ("loss", "error", "rmse", "mse", "mae", "mape", "logloss", "latency")


def lower_is_better(metric: str) -> bool:
    key = metric.lower()
    return any(word in key for word in _LOWER_IS_BETTER)


def _logged(
    ctx: Context, infos: list[m.ModelVersionInfo], metric: str
) -> dict[int, tuple[float | None, str]]:
    """Each version's latest logged value of ``metric``, or why it has none."""
    runs = [i.run_id for i in infos if i.run_id]
    values: dict[str, float | None] = {}
    if runs:
        for lm in ctx.session.scalars(
            select(schema.LatestMetric).where(
                schema.LatestMetric.run_id.in_(runs), schema.LatestMetric.key == metric
            )
        ):
            values[lm.run_id] = None if lm.is_nan else lm.value
    out: dict[int, tuple[float | None, str]] = {}
    for i in infos:
        if not i.run_id:
            out[i.version] = (None, "registered without a run")
        elif i.run_id not in values:
            out[i.version] = (None, f"its run did not log {metric}")
        elif values[i.run_id] is None:
            out[i.version] = (None, f"its run logged {metric} as NaN")
        else:
            out[i.version] = (values[i.run_id], "")
    return out


def _higher(req: m.LeaderboardRequest | m.RankVersions) -> bool:
    return not lower_is_better(req.metric) if req.higher_is_better is None else req.higher_is_better


def leaderboard(ctx: Context, req: m.LeaderboardRequest) -> list[m.LeaderboardEntry]:
    """Versions ranked by the metric their run logged (latest value)."""
    model, readable = readable_model(ctx, req.workspace, req.name)
    if req.environment is not None:
        env = get_environment(ctx, req.workspace, req.environment)
        readable &= {env.id}
    infos = version_infos(ctx, model, visible_versions(ctx, model, readable))
    logged = _logged(ctx, infos, req.metric)
    return rank(
        [
            _entry(i, logged[i.version], {a for names in i.aliases.values() for a in names})
            for i in infos
        ],
        higher_is_better=_higher(req),
    )


def _entry(
    info: m.ModelVersionInfo, value: tuple[float | None, str], aliases: set[str], source: str = ""
) -> m.LeaderboardEntry:
    return m.LeaderboardEntry(
        rank=None,
        version=info.version,
        value=value[0],
        note=value[1],
        run_id=info.run_id,
        environment=info.environment,
        aliases=sorted(aliases),
        source=source or "logged",
    )


def rank_versions(ctx: Context, req: m.RankVersions) -> list[m.LeaderboardEntry]:
    """Rank the versions available in one environment by the scores given (each version
    must be available there) or, without scores, by what their runs logged; with
    ``set_challenger``, point that environment's ``challenger`` alias at the winner."""
    if req.set_challenger:
        ctx.require(Action.MODEL_REGISTER, req.workspace, req.environment)
    model, readable = readable_model(ctx, req.workspace, req.name)
    env = get_environment(ctx, req.workspace, req.environment)
    if req.scores is None:
        infos = version_infos(ctx, model, visible_versions(ctx, model, readable & {env.id}))
        values = _logged(ctx, infos, req.metric)
        source = "logged"
    else:
        rows = [available_version(ctx, env, model.name, s.version) for s in req.scores]
        infos = version_infos(ctx, model, rows)
        values = {
            s.version: (s.value, "" if s.value is not None else "no score given")
            for s in req.scores
        }
        source = f"evaluated on {req.source}" if req.source else "evaluated"
    entries = rank(
        [_entry(i, values[i.version], set(i.aliases.get(env.name, [])), source) for i in infos],
        higher_is_better=_higher(req),
    )
    winner = entries[0] if entries and entries[0].rank is not None else None
    if req.set_challenger and winner is not None and winner.value is not None:
        how = f"on {req.source}" if req.scores is not None and req.source else "as logged"
        version = next(r for r in model.versions if r.version == winner.version)
        move_alias(
            ctx,
            model,
            env,
            "challenger",
            version,
            reason=f"leaderboard winner by {req.metric} {how} ({winner.value:.6g})",
        )
        winner.aliases = sorted({*winner.aliases, "challenger"})
    return entries


def rank(entries: list[m.LeaderboardEntry], *, higher_is_better: bool) -> list[m.LeaderboardEntry]:
    """Best first, ranked 1..n; versions without a value last (by version) and unranked;
    ties keep the newer first."""

    def key(e: m.LeaderboardEntry) -> tuple[int, float, int]:
        if e.value is None or math.isnan(e.value):
            return (1, 0.0, -e.version)
        return (0, -e.value if higher_is_better else e.value, -e.version)

    out = sorted(entries, key=key)
    for i, e in enumerate(out, 1):
        e.rank = None if e.value is None or math.isnan(e.value) else i
        if e.rank is None and not e.note:
            e.note = "no value"
    return out
