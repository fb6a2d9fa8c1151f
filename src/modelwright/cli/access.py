"""``principal``, ``role``, ``grant``, ``token``, ``access check`` and ``whoami``."""

from __future__ import annotations

from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._options import Json, Limit, PageToken
from modelwright.cli._output import console, emit_json, print_one, print_rows, table
from modelwright.cli._times import parse_expiry
from modelwright.core.actions import Action

principal_app = typer.Typer(help="Users and service accounts.", no_args_is_help=True)
role_app = typer.Typer(help="Roles: named sets of actions.", no_args_is_help=True)
grant_app = typer.Typer(
    help="Grants: principal × role × workspace × environment.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)
access_app = typer.Typer(help="Ask whether an action is allowed.", no_args_is_help=True)

PrincipalName = Annotated[str, typer.Argument(help="Principal name.")]
RoleName = Annotated[str, typer.Argument(help="Role name.")]
GrantWorkspace = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace, or '*' for all.")
]
Env = Annotated[str, typer.Option("--env", "-e", help="Environment, or '*' for all.")]


def register(app: typer.Typer) -> None:
    app.add_typer(principal_app, name="principal")
    app.add_typer(role_app, name="role")
    app.add_typer(grant_app, name="grant")
    app.add_typer(token_app, name="token")
    app.add_typer(access_app, name="access")
    app.command("whoami")(whoami)


def whoami(ctx: typer.Context, json: Json = False) -> None:
    """Show who you are acting as, and your grants."""
    me = client_of(ctx).whoami()
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
    print_rows(
        client_of(ctx).list_principals(page_token=page_token, limit=limit),
        "Principals",
        ["name", "kind", "display name", "email", "created"],
        lambda p: (p.name, p.kind, p.display_name, p.email, p.created_at),
        json=json,
        paged=limit is not None or page_token is not None,
    )


@principal_app.command("create")
def create_principal(
    ctx: typer.Context,
    name: PrincipalName,
    service: Annotated[
        bool, typer.Option("--service", help="A service account, not a user.")
    ] = False,
    display_name: Annotated[str, typer.Option(help="Full name.")] = "",
    email: Annotated[str, typer.Option(help="E-mail address.")] = "",
    json: Json = False,
) -> None:
    """Create a user (or, with --service, a service account)."""
    print_one(
        client_of(ctx).create_principal(
            name, kind="service" if service else "user", display_name=display_name, email=email
        ),
        lambda p: console.print(f"created {p.kind} {p.name}"),
        json=json,
    )


@principal_app.command("delete")
def delete_principal(ctx: typer.Context, name: PrincipalName, json: Json = False) -> None:
    """Delete a principal with its grants and tokens."""
    print_one(
        client_of(ctx).delete_principal(name),
        lambda p: console.print(f"deleted principal {p.name}"),
        json=json,
    )


# -- roles -------------------------------------------------------------------------------------
@role_app.command("list")
def list_roles(
    ctx: typer.Context, limit: Limit = None, page_token: PageToken = None, json: Json = False
) -> None:
    """List roles and the actions each allows."""
    print_rows(
        client_of(ctx).list_roles(page_token=page_token, limit=limit),
        "Roles",
        ["name", "built-in", "actions", "description"],
        lambda r: (r.name, r.builtin, [a.value for a in r.actions], r.description),
        json=json,
        paged=limit is not None or page_token is not None,
    )


@role_app.command("create")
def create_role(
    ctx: typer.Context,
    name: RoleName,
    actions: Annotated[
        str, typer.Option(help=f"Comma-separated actions: {', '.join(a.value for a in Action)}.")
    ],
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    json: Json = False,
) -> None:
    """Create a custom role."""
    print_one(
        client_of(ctx).create_role(
            name, [a.strip() for a in actions.split(",")], description=description
        ),
        lambda r: console.print(f"created role {r.name}: {', '.join(a.value for a in r.actions)}"),
        json=json,
    )


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
    print_rows(
        client_of(ctx).list_grants(
            principal=principal, workspace=workspace, page_token=page_token, limit=limit
        ),
        "Grants",
        ["principal", "role", "workspace", "environment"],
        lambda g: (g.principal, g.role, g.workspace, g.environment),
        json=json,
        paged=limit is not None or page_token is not None,
    )


def _change_grant(
    ctx: typer.Context,
    principal: PrincipalName,
    role: RoleName,
    workspace: GrantWorkspace,
    env: Env = "*",
    json: Json = False,
) -> None:
    client = client_of(ctx)
    if ctx.command.name == "add":
        g = client.grant(principal, role, workspace, env)
        said = f"granted {g.role} to {g.principal}"
    else:
        g = client.revoke_grant(principal, role, workspace, env)
        said = f"removed {g.role} from {g.principal}"
    print_one(g, lambda g: console.print(f"{said} in {g.workspace}/{g.environment}"), json=json)


grant_app.command("add", help="Give a principal a role in a workspace and environment.")(
    _change_grant
)
grant_app.command("remove", help="Take a role away from a principal.")(_change_grant)


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
    expires_at = parse_expiry(expires, "--expires")
    t = client_of(ctx).create_token(principal=principal, name=name, expires_at=expires_at)
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
    print_rows(
        client_of(ctx).list_tokens(principal=principal, page_token=page_token, limit=limit),
        "Tokens",
        ["id", "principal", "name", "prefix", "created", "expires", "revoked"],
        lambda t: (
            t.id,
            t.principal,
            t.name,
            t.prefix + "…",
            t.created_at,
            t.expires_at,
            t.revoked_at,
        ),
        json=json,
        paged=limit is not None or page_token is not None,
    )


@token_app.command("revoke")
def revoke_token(
    ctx: typer.Context,
    token_id: Annotated[int, typer.Argument(help="Token id.")],
    json: Json = False,
) -> None:
    """Revoke a token; it stops working at once."""
    print_one(
        client_of(ctx).revoke_token(token_id),
        lambda t: console.print(f"revoked token {t.id} of {t.principal}"),
        json=json,
    )


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
    d = client_of(ctx).check_access(action, workspace, env, principal=principal)
    if json:
        emit_json(d)
    else:
        verdict = "[green]allowed[/green]" if d.allowed else "[red]denied[/red]"
        console.print(
            f"{d.principal} {d.action.value} in {d.workspace}/{d.environment}: {verdict} ({d.reason})"
        )
    if not d.allowed:
        raise typer.Exit(3)
