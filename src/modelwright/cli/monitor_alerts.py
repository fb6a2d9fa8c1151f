"""``monitor alert add/list/remove`` and ``monitor alerts`` (states and transitions)."""

from __future__ import annotations

from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._options import Env, Json, PageToken, Workspace
from modelwright.cli._output import (
    console,
    emit_json,
    fmt,
    hint_next_page,
    print_one,
    print_rows,
    table,
)
from modelwright.cli.monitors import MonitorName, figure, monitor_app
from modelwright.monitors import alert_models as am

alert_app = typer.Typer(
    help="Alert rules of a monitor: a condition on its values held for N evaluations in a "
    "row fires, and resolves once it no longer holds; each transition is notified once.",
    no_args_is_help=True,
)
RuleName = Annotated[str, typer.Argument(help="The alert rule.")]


def register(app: typer.Typer) -> None:
    monitor_app.add_typer(alert_app, name="alert")


def _sinks(r: am.AlertRuleInfo) -> str:
    return ", ".join(f"{s.kind}:{s.target}" if s.target else s.kind for s in r.sinks)


@alert_app.command("add")
def add(
    ctx: typer.Context,
    monitor: MonitorName,
    name: RuleName,
    when: Annotated[
        str,
        typer.Option(
            help="<signal>.<metric>[<feature>] <op> <number>: 'drift.drift_share >= 0.5', "
            "'service.p99_ms > 250', 'quality.missing_share[plan] > 0.1'; metrics by signal: "
            f"{am.metrics_help()}."
        ),
    ],
    for_: Annotated[
        int,
        typer.Option("--for", help="Evaluations in a row the condition must hold to fire."),
    ] = 1,
    sink: Annotated[
        list[str] | None,
        typer.Option(
            help="Repeatable: log, webhook:https://…, command:'notify --page' (default: log)."
        ),
    ] = None,
    format_: Annotated[
        str, typer.Option("--format", help="Webhooks: json (the alert) or slack ({'text': …}).")
    ] = "json",
    secret: Annotated[
        str | None,
        typer.Option(
            envvar="MODELWRIGHT_ALERT_SECRET",
            help="Webhooks: HMAC-SHA256 key of the X-Modelwright-Signature header.",
        ),
    ] = None,
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Add an alert rule to a monitor (needs endpoint.deploy in the environment)."""
    r = client_of(ctx).add_alert_rule(
        monitor,
        name,
        when=when,
        consecutive=for_,
        sinks=sink or ["log"],
        format=format_,
        secret=secret,
        description=description,
        workspace=workspace,
        environment=env,
    )
    if json:
        emit_json(r)
        return
    console.print(
        f"alert rule {r.name} on monitor {r.monitor}: {r.condition} for {r.consecutive} "
        f"evaluation(s) → {_sinks(r)}" + (" (signed)" if r.signed else ""),
        markup=False,
    )


@alert_app.command("list")
def list_rules(
    ctx: typer.Context,
    monitor: MonitorName,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """The monitor's alert rules, their sinks and states."""
    found = client_of(ctx).list_alert_rules(monitor, workspace=workspace, environment=env)
    print_rows(
        found,
        f"Alert rules of {monitor} ({len(found)})",
        ["name", "condition", "for", "sinks", "signed", "state"],
        lambda r: (
            r.name,
            r.condition,
            r.consecutive,
            _sinks(r),
            "yes" if r.signed else "no",
            r.state,
        ),
        json=json,
        paged=False,
    )


@alert_app.command("remove")
def remove(
    ctx: typer.Context,
    monitor: MonitorName,
    name: RuleName,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """Remove an alert rule and its history."""
    print_one(
        client_of(ctx).remove_alert_rule(monitor, name, workspace=workspace, environment=env),
        lambda r: console.print(f"alert rule {r.name} removed from monitor {monitor}"),
        json=json,
    )


@monitor_app.command("alerts")
def alerts(
    ctx: typer.Context,
    monitor: MonitorName,
    limit: Annotated[int, typer.Option(help="At most this many transitions.")] = 20,
    page_token: PageToken = None,
    workspace: Workspace = None,
    env: Env = None,
    json: Json = False,
) -> None:
    """The states of the monitor's alert rules and their latest transitions."""
    client = client_of(ctx)
    rules = client.list_alert_rules(monitor, workspace=workspace, environment=env)
    events = client.alert_history(
        monitor, limit=limit, workspace=workspace, environment=env, page_token=page_token
    )
    hint_next_page(events)
    if json:
        emit_json({"rules": rules, "history": events, "next_page_token": events.next_page_token})
        return
    table(
        f"Alerts of {monitor}",
        ["rule", "condition", "state", "since (UTC)", "breaches", "value"],
        [
            (r.name, r.condition, r.state, fmt(r.since), f"{r.breaches}/{r.consecutive}",
             figure(r.value))
            for r in rules
        ],
    )  # fmt: skip
    table(
        f"Transitions ({len(events)})",
        ["evaluated (UTC)", "rule", "state", "value", "delivered"],
        [
            (
                fmt(e.evaluated_at),
                e.rule,
                e.state,
                figure(e.value),
                "pending"
                if e.delivered_at is None
                else "; ".join(
                    f"{d.sink} {'ok' if d.ok else 'FAILED'} ({d.detail})" for d in e.deliveries
                ),
            )
            for e in events
        ],
    )
