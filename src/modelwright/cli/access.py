"""``principal``, ``role``, ``grant``, ``token``, ``access check`` and ``whoami``."""

from __future__ import annotations

from typing import Annotated

import typer

from modelwright.cli._app import State
from modelwright.cli._options import Json, Limit, PageToken
from modelwright.cli._output import console, emit_json, emit_rows_json, hint_next_page, table
from modelwright.cli._times import parse_expiry
from modelwright.core.actions import Action

principal_app = typer.Typer(help="Users and service accounts.", no_args_is_help=True)
role_app = typer.Typer(help="Roles: named sets of actions.", no_args_is_help=True)
grant_app = typer.Typer(
    help="Grants: principal × role × workspace × environment.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
access_app = typer.Typer(help="Ask whether an action is allowed.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(principal_app, name="principal")
    app.add_typer(role_app, name="role")
    app.add_typer(grant_app, name="grant")
    app.add_typer(token_app, name="token")
    app.add_typer(access_app, name="access")
    app.command("whoami")(whoami)


def whoami(ctx: typer.Context, json: Json = False) -> None:
    """Show who you are acting as, and your grants."""
    state: State = ctx.obj
    me = state.client().whoami()
    if json:
        emit_json(me)
        return
    console.print(f"[bold]{me.principal}[/bold]")
    table(
        None,
        ["role", "workspace", "environment"],
        [(g.role, g.workspace, g.environment) for g in me.grants],
    )


# -- principals --------------------------------------------------------------------------------
@principal_app.command("list")
def list_principals(
    ctx: typer.Context, limit: Limit = None, page_token: PageToken = None, json: Json = False
) -> None:
    """List users and service accounts."""
    state: State = ctx.obj
    rows = state.client().list_principals(page_token=page_token, limit=limit)
    hint_next_page(rows)
    if json:
        emit_rows_json(rows, paged=limit is not None or page_token is not None)
        return
    table(
        "Principals",
        ["name", "kind", "display name", "email", "created"],
        [(p.name, p.kind, p.display_name, p.email, p.created_at) for p in rows],
    )


@principal_app.command("create")
def create_principal(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Principal name.")],
    service: Annotated[
        bool, typer.Option("--service", help="A service account, not a user.")
    ] = False,
    display_name: Annotated[str, typer.Option(help="Full name.")] = "",
    email: Annotated[str, typer.Option(help="E-mail address.")] = "",
) -> None:
    """Create a user (or, with --service, a service account)."""
    state: State = ctx.obj
    p = state.client().create_principal(
        name, kind="service" if service else "user", display_name=display_name, email=email
    )
    console.print(f"created {p.kind} {p.name}")


@principal_app.command("delete")
def delete_principal(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Principal name.")]
) -> None:
    """Delete a principal with its grants and tokens."""
    state: State = ctx.obj
    state.client().delete_principal(name)
    console.print(f"deleted principal {name}")


# -- roles -------------------------------------------------------------------------------------
@role_app.command("list")
def list_roles(
    ctx: typer.Context, limit: Limit = None, page_token: PageToken = None, json: Json = False
) -> None:
    """List roles and the actions each allows."""
    state: State = ctx.obj
    rows = state.client().list_roles(page_token=page_token, limit=limit)
    hint_next_page(rows)
    if json:
        emit_rows_json(rows, paged=limit is not None or page_token is not None)
        return
    table(
        "Roles",
        ["name", "built-in", "actions", "description"],
        [(r.name, r.builtin, [a.value for a in r.actions], r.description) for r in rows],
    )


@role_app.command("create")
def create_role(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Role name.")],
    actions: Annotated[
        str, typer.Option(help=f"Comma-separated actions: {', '.join(a.value for a in Action)}.")
    ],
    description: Annotated[str, typer.Option(help="Free text.")] = "",
) -> None:
    """Create a custom role."""
    state: State = ctx.obj
    r = state.client().create_role(
        name, [a.strip() for a in actions.split(",")], description=description
    )
    console.print(f"created role {r.name}: {', '.join(a.value for a in r.actions)}")


# -- grants ------------------------------------------------------------------------------------
@grant_app.command("list")
def list_grants(
    ctx: typer.Context,
    principal: Annotated[str | None, typer.Option(help="Only this principal's.")] = None,
    workspace: Annotated[str | None, typer.Option(help="Only in this workspace.")] = None,
    limit: Limit = None,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """List the grants you may see."""
    state: State = ctx.obj
    rows = state.client().list_grants(
        principal=principal, workspace=workspace, page_token=page_token, limit=limit
    )
    hint_next_page(rows)
    if json:
        emit_rows_json(rows, paged=limit is not None or page_token is not None)
        return
    table(
        "Grants",
        ["principal", "role", "workspace", "environment"],
        [(g.principal, g.role, g.workspace, g.environment) for g in rows],
    )


Env = Annotated[str, typer.Option("--env", "-e", help="Environment, or '*' for all.")]


@grant_app.command("add")
def add_grant(
    ctx: typer.Context,
    principal: Annotated[str, typer.Argument(help="Principal name.")],
    role: Annotated[str, typer.Argument(help="Role name.")],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="Workspace, or '*' for all.")],
    env: Env = "*",
) -> None:
    """Give a principal a role in a workspace and environment."""
    state: State = ctx.obj
    g = state.client().grant(principal, role, workspace, env)
    console.print(f"granted {g.role} to {g.principal} in {g.workspace}/{g.environment}")


@grant_app.command("remove")
def remove_grant(
    ctx: typer.Context,
    principal: Annotated[str, typer.Argument(help="Principal name.")],
    role: Annotated[str, typer.Argument(help="Role name.")],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="Workspace, or '*' for all.")],
    env: Env = "*",
) -> None:
    """Take a role away from a principal."""
    state: State = ctx.obj
    g = state.client().revoke_grant(principal, role, workspace, env)
    console.print(f"removed {g.role} from {g.principal} in {g.workspace}/{g.environment}")


# -- tokens ------------------------------------------------------------------------------------
@token_app.command("create")
def create_token(
    ctx: typer.Context,
    principal: Annotated[
        str | None, typer.Option(help="For this principal (default: you).")
    ] = None,
    name: Annotated[str, typer.Option(help="A label for the token.")] = "",
    expires: Annotated[
        str | None, typer.Option(help="Expiry: ISO 8601 time, or a duration from now (30d, 12h).")
    ] = None,
    json: Json = False,
) -> None:
    """Create an API token. The secret is printed once and never stored."""
    state: State = ctx.obj
    expires_at = parse_expiry(expires, "--expires")
    t = state.client().create_token(principal=principal, name=name, expires_at=expires_at)
    if json:
        emit_json(t)
        return
    console.print(f"token {t.id} for {t.principal} (expires {t.expires_at or 'never'}):")
    typer.echo(t.secret)
    console.print("[dim]Store it now: it cannot be shown again.[/dim]", highlight=False)


@token_app.command("list")
def list_tokens(
    ctx: typer.Context,
    principal: Annotated[str | None, typer.Option(help="Only this principal's.")] = None,
    limit: Limit = None,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """List tokens (never their secrets)."""
    state: State = ctx.obj
    rows = state.client().list_tokens(principal=principal, page_token=page_token, limit=limit)
    hint_next_page(rows)
    if json:
        emit_rows_json(rows, paged=limit is not None or page_token is not None)
        return
    table(
        "Tokens",
        ["id", "principal", "name", "prefix", "created", "expires", "revoked"],
        [
            (t.id, t.principal, t.name, t.prefix + "…", t.created_at, t.expires_at, t.revoked_at)
            for t in rows
        ],
    )


@token_app.command("revoke")
def revoke_token(
    ctx: typer.Context, token_id: Annotated[int, typer.Argument(help="Token id.")]
) -> None:
    """Revoke a token; it stops working at once."""
    state: State = ctx.obj
    t = state.client().revoke_token(token_id)
    console.print(f"revoked token {t.id} of {t.principal}")


# -- access check ------------------------------------------------------------------------------
@access_app.command("check")
def check_access(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help=f"One of: {', '.join(a.value for a in Action)}.")],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="Workspace.")],
    env: Env = "*",
    principal: Annotated[str | None, typer.Option(help="Ask for another principal.")] = None,
    json: Json = False,
) -> None:
    """Would this action be allowed? Exits 0 when allowed, 3 when denied."""
    state: State = ctx.obj
    d = state.client().check_access(action, workspace, env, principal=principal)
    if json:
        emit_json(d)
    else:
        verdict = "[green]allowed[/green]" if d.allowed else "[red]denied[/red]"
        console.print(
            f"{d.principal} {d.action.value} in {d.workspace}/{d.environment}: {verdict} ({d.reason})"
        )
    if not d.allowed:
        raise typer.Exit(3)
