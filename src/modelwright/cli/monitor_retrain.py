"""``monitor retrain set/show/clear/run``: what a monitor does when one of its alerts fires."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._options import Env, Json, Workspace
from modelwright.cli._output import console, emit_json, fmt, print_one, table
from modelwright.cli._times import parse_duration
from modelwright.cli.monitors import MonitorName, monitor_app
from modelwright.monitors import retrain_models as rm

retrain_app = typer.Typer(
    help="Retraining: when an alert rule of the monitor fires (at most once per cooldown), "
    "run a pipeline, register its model and request its promotion through the target's "
    "gates and approvals.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    monitor_app.add_typer(retrain_app, name="retrain")


def _print(r: rm.RetrainingInfo) -> None:
    what = f"retraining {r.id} of monitor {r.monitor}: {r.status}"
    console.print(what + (f" ({r.reason})" if r.reason else ""), markup=False)
    if r.job_id is not None:
        console.print(f"job {r.job_id}", markup=False)


@retrain_app.command("set")
def set_(
    ctx: typer.Context,
    monitor: MonitorName,
    pipeline: Annotated[str, typer.Option(help="The pipeline of the project to run.")],
    model: Annotated[str, typer.Option(help="The registered model to add a version to.")],
    project: Annotated[
        Path, typer.Option(help="The project directory (a snapshot of it is taken now).")
    ] = Path("."),
    param: Annotated[list[str] | None, typer.Option(help="Repeatable: key=value.")] = None,
    output: Annotated[str, typer.Option(help="The pipeline output holding the model.")] = "model",
    example: Annotated[
        str | None, typer.Option(help="The pipeline output holding an input example.")
    ] = None,
    train_in: Annotated[
        str | None, typer.Option(help="Where the pipeline runs (default: the monitor's).")
    ] = None,
    promote_to: Annotated[
        str | None,
        typer.Option(help="The environment to request (default: the next on the path)."),
    ] = None,
    alias: Annotated[str | None, typer.Option(help="Moved to the version once promoted.")] = None,
    cooldown: Annotated[
        str, typer.Option(help="At most one retraining per this long: 6h, 30m.")
    ] = "6h",
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Set the monitor's retraining (needs endpoint.deploy here, pipeline.run where it
    trains and promotion.request in the target); it runs and requests as you."""
    a = client_of(ctx).set_retraining(
        monitor,
        project=project,
        pipeline=pipeline,
        model=model,
        params=param or (),
        output=output,
        example=example,
        train_in=train_in,
        promote_to=promote_to,
        alias=alias,
        cooldown_seconds=int(parse_duration(cooldown, "--cooldown").total_seconds()),
        workspace=workspace,
        environment=env,
    )
    if json:
        emit_json(a)
        return
    console.print(
        f"monitor {a.monitor}: on a firing alert, run pipeline {a.pipeline} in {a.train_in}, "
        f"register models:/{a.model}, request its promotion to {a.promote_to}"
        + (f" as {a.alias}" if a.alias else "")
        + f"; at most once per {a.cooldown_seconds}s",
        markup=False,
    )


@retrain_app.command("show")
def show(
    ctx: typer.Context,
    monitor: MonitorName,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """The retraining action and the latest retrainings (started or skipped)."""
    d = client_of(ctx).get_retraining(monitor, workspace=workspace, environment=env)
    if json:
        emit_json(d)
        return
    a = d.action
    if a is None:
        console.print(f"monitor {monitor} has no retraining action", markup=False)
    else:
        console.print(
            f"pipeline {a.pipeline} {' '.join(a.params)} in {a.train_in} → models:/{a.model} "
            f"→ promotion to {a.promote_to}; cooldown {a.cooldown_seconds}s; as {a.created_by}; "
            f"last started {fmt(a.last_started_at)}",
            markup=False,
        )
    table(
        f"Retrainings of {monitor} ({len(d.history)})",
        ["id", "created (UTC)", "trigger", "status", "version", "promotion", "reason"],
        [
            (r.id, fmt(r.created_at), r.rule or r.trigger, r.status, r.version or "-",
             r.promotion_id or "-", r.reason)
            for r in d.history
        ],
    )  # fmt: skip


@retrain_app.command("clear")
def clear(
    ctx: typer.Context,
    monitor: MonitorName,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Remove the retraining action (its history stays)."""
    print_one(
        client_of(ctx).clear_retraining(monitor, workspace=workspace, environment=env),
        lambda _: console.print(
            f"monitor {monitor} has no retraining action any more", markup=False
        ),
        json=json,
    )


@retrain_app.command("run")
def run(
    ctx: typer.Context,
    monitor: MonitorName,
    force: Annotated[bool, typer.Option(help="Start even within the cooldown.")] = False,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Start the retraining now, as a job (skipped within the cooldown unless --force)."""
    r = client_of(ctx).run_retraining(monitor, force=force, workspace=workspace, environment=env)
    print_one(r, _print, json=json)
    if r.status == "skipped":
        raise typer.Exit(1)


@monitor_app.command("report")
def report(
    ctx: typer.Context,
    monitor: MonitorName,
    out: Annotated[Path, typer.Option(help="Where the HTML page is written.")],
    window: Annotated[
        str | None, typer.Option(help="The traffic before --until: 1h (default: the monitor's).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Start (ISO time, UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="End (ISO time, UTC; default now).")] = None,
    workspace: Workspace = None,
    env: Env = None,
    json: Annotated[
        bool, typer.Option("--json", help="Also print the report's data as JSON.")
    ] = False,
) -> None:
    """A self-contained HTML report: histograms, drift over time, quality, alerts."""
    from datetime import datetime

    page, data = client_of(ctx).monitor_report(
        monitor,
        window_seconds=None
        if window is None
        else int(parse_duration(window, "--window").total_seconds()),
        since=None if since is None else datetime.fromisoformat(since),
        until=None if until is None else datetime.fromisoformat(until),
        workspace=workspace,
        environment=env,
    )
    out.write_text(page, encoding="utf-8")
    print_one(
        data,
        lambda _: console.print(f"report of monitor {monitor} written to {out}", markup=False),
        json=json,
    )
