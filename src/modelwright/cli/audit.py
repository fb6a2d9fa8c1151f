"""``audit``: query the audit trail."""

from __future__ import annotations

from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._options import FilterWorkspace, PageToken
from modelwright.cli._output import print_rows
from modelwright.cli._times import parse_time


def register(app: typer.Typer) -> None:
    app.command("audit")(audit)


def audit(
    ctx: typer.Context,
    principal: Annotated[str | None, typer.Option(help="Only events by this principal.")] = None,
    action: Annotated[
        str | None, typer.Option(help="An action (grant.create) or a prefix (grant.*).")
    ] = None,
    workspace: FilterWorkspace = None,
    since: Annotated[
        str | None, typer.Option(help="From this time (ISO 8601) or age (1h, 7d).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (ISO 8601) or age.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many events.")] = 100,
    page_token: PageToken = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON, with before/after.")] = False,
) -> None:
    """Who changed what, where and when (newest first)."""
    events = client_of(ctx).audit_events(
        principal=principal,
        action=action,
        workspace=workspace,
        since=parse_time(since, "--since"),
        until=parse_time(until, "--until"),
        limit=limit,
        page_token=page_token,
    )
    print_rows(
        events,
        "Audit trail",
        ["time (UTC)", "principal", "action", "workspace", "environment", "target"],
        lambda e: (e.at, e.principal, e.action, e.workspace, e.environment, e.target),
        json=json,
        paged=page_token is not None,
    )
