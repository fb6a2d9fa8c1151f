"""``endpoint stats``: requests, errors and latency per deployment, from every router."""

from __future__ import annotations

from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._options import Env, Json, Workspace
from modelwright.cli._output import console, emit_json, table
from modelwright.cli._times import parse_duration, parse_time
from modelwright.endpoints import stats_models as sm

__all__ = ["stats"]


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _counts(s: sm.StatsSummary) -> tuple[object, ...]:
    if not s.has_data:
        return ("no data", "-", "-", "-", "-", "-", "-", "-")
    e = s.errors
    return (s.requests, e.client, e.server, e.shed, _rate(s.error_rate), *map(_ms, _p(s)))


def _p(s: sm.StatsSummary) -> tuple[float | None, ...]:
    return (s.p50_ms, s.p90_ms, s.p99_ms)


_COLUMNS = ["requests", "4xx", "5xx", "shed", "error rate", "p50 ms", "p90 ms", "p99 ms"]


def stats(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name.")],
    deployment: Annotated[str | None, typer.Option(help="One deployment only.")] = None,
    since: Annotated[
        str, typer.Option(help="Start of the window: an age (30m, 1h, 7d) or an ISO time.")
    ] = "1h",
    until: Annotated[
        str | None, typer.Option(help="End of the window (default: now); an age or ISO time.")
    ] = None,
    step: Annotated[
        str | None,
        typer.Option(help="Show a row per step of this length (1m, 5m, 1h) and deployment."),
    ] = None,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Requests, errors by class (4xx, 5xx, shed) and latency percentiles per deployment, as
    every router serving the endpoint recorded them."""
    client = client_of(ctx)
    start, end = parse_time(since, "--since"), parse_time(until, "--until")
    if step is not None:
        seconds = int(parse_duration(step, "--step").total_seconds())
        series = client.serving_stats_series(
            name,
            step=max(1, seconds),
            deployment=deployment,
            since=start,
            until=end,
            workspace=workspace,
            environment=env,
        )
        if json:
            emit_json(series)
            return
        _title = f"{_where(series)} every {step}"
        if not series.points:
            console.print(f"{_title}: no requests recorded")
            return
        table(
            _title,
            ["time", "deployment", *_COLUMNS],
            [(p.at, p.deployment or "(none)", *_counts(p)) for p in series.points],
        )
        return
    found = client.serving_stats(
        name, deployment=deployment, since=start, until=end, workspace=workspace, environment=env
    )
    if json:
        emit_json(found)
        return
    rows = [(d.deployment or "(none)", *_counts(d), d.routers) for d in found.deployments]
    if len(found.deployments) > 1:
        rows.append(("total", *_counts(found.total), ""))
    table(_where(found), ["deployment", *_COLUMNS, "routers"], rows)
    if not found.total.has_data:
        console.print("no requests recorded in this window")


def _where(found: sm.ServingStats | sm.ServingStatsSeries) -> str:
    window = f"{found.since:%Y-%m-%d %H:%M:%S} to {found.until:%Y-%m-%d %H:%M:%S} UTC"
    return f"Serving stats of {found.workspace}/{found.environment}/{found.endpoint}, {window}"
