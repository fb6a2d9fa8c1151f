"""``audit``: query the audit trail."""

from __future__ import annotations

from typing import Annotated

import typer

from modelwright.cli._app import State
from modelwright.cli._options import PageToken
from modelwright.cli._output import emit_rows_json, hint_next_page, table
from modelwright.cli._times import parse_time


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    ctx: typer.Context,
    principal: Annotated[str | None, typer.Option(help="Only events by this principal.")] = None,
    action: Annotated[
        str | None, typer.Option(help="An action (grant.create) or a prefix (grant.*).")
    ] = None,
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Only this workspace.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="From this time (ISO 8601) or age (1h, 7d).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (ISO 8601) or age.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many events.")] = 100,
    page_token: PageToken = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON, with before/after.")] = False,
) -> None:
    """Who changed what, where and when (newest first)."""
    state: State = ctx.obj
    events = state.client().audit_events(
        principal=principal,
        action=action,
        workspace=workspace,
        since=parse_time(since, "--since"),
        until=parse_time(until, "--until"),
        limit=limit,
        page_token=page_token,
    )
    hint_next_page(events)
    if json:
        emit_rows_json(events, paged=page_token is not None)
        return
    table(
        "Audit trail",
        ["time (UTC)", "principal", "action", "workspace", "environment", "target"],
        [(e.at, e.principal, e.action, e.workspace, e.environment, e.target) for e in events],
    )
