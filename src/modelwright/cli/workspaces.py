"""``workspace``, ``environment`` and ``datastore`` commands."""

from __future__ import annotations

from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._options import Json, Limit, PageToken
from modelwright.cli._output import console, print_one, print_rows, table
from modelwright.workspaces.models import Classification, WorkspaceInfo
from modelwright.workspaces.rules import absolute_local

workspace_app = typer.Typer(help="Workspaces and their environments.", no_args_is_help=True)
datastore_app = typer.Typer(help="Datastores attached to environments.", no_args_is_help=True)

WorkspaceName = Annotated[str, typer.Argument(help="Workspace name.")]
EnvironmentName = Annotated[str, typer.Argument(help="Environment name.")]
DatastoreName = Annotated[str, typer.Argument(help="Datastore name.")]


def register(app: typer.Typer) -> None:
    app.add_typer(workspace_app, name="workspace")
    app.add_typer(datastore_app, name="datastore")


@workspace_app.command("list")
def list_workspaces(
    ctx: typer.Context, json: Json = False, limit: Limit = None, page_token: PageToken = None
) -> None:
    """List the workspaces you have a grant in."""
    print_rows(
        client_of(ctx).list_workspaces(page_token=page_token, limit=limit),
        "Workspaces",
        ["name", "promotion path", "production", "datastores", "created"],
        lambda w: (
            w.name,
            " → ".join(e.name for e in w.environments),
            [e.name for e in w.environments if e.production],
            sum(len(e.datastores) for e in w.environments),
            w.created_at,
        ),
        json=json,
        paged=limit is not None or page_token is not None,
    )


@workspace_app.command("show")
def show_workspace(
    ctx: typer.Context,
    name: WorkspaceName,
    json: Json = False,
) -> None:
    """Show a workspace with its environments and datastores."""
    print_one(client_of(ctx).get_workspace(name), print_workspace, json=json)


def print_workspace(info: WorkspaceInfo) -> None:
    console.print(f"[bold]Workspace {info.name}[/bold] {info.description}".rstrip())
    table(
        None,
        ["#", "environment", "production", "datastore", "url", "classification", "region"],
        [
            (e.position, e.name, e.production, d.name, d.url, d.classification, d.region)
            for e in info.environments
            for d in e.datastores
        ]
        + [
            (e.position, e.name, e.production, None, None, None, None)
            for e in info.environments
            if not e.datastores
        ],
    )


@workspace_app.command("create")
def create_workspace(
    ctx: typer.Context,
    name: WorkspaceName,
    environments: Annotated[
        str, typer.Option(help="Comma-separated promotion path; the last one is production.")
    ] = "dev,staging,prod",
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    json: Json = False,
) -> None:
    """Create a workspace with an ordered promotion path of environments."""
    names = [n.strip() for n in environments.split(",")]
    envs = [{"name": n, "production": i == len(names) - 1} for i, n in enumerate(names)]
    print_one(
        client_of(ctx).create_workspace(name, description=description, environments=envs),
        print_workspace,
        json=json,
    )


@workspace_app.command("default")
def default_workspace(ctx: typer.Context, json: Json = False) -> None:
    """Show the 'default' workspace, made first if you see no workspace yet (dev → staging →
    prod, a datastore each where the platform keeps its data; platform admins only)."""
    print_one(client_of(ctx).ensure_default_workspace(), print_workspace, json=json)


@workspace_app.command("delete")
def delete_workspace(
    ctx: typer.Context,
    name: WorkspaceName,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    json: Json = False,
) -> None:
    """Delete a workspace, its environments, datastores and grants."""
    if not yes:
        typer.confirm(f"Delete workspace '{name}' and everything in it?", abort=True)
    print_one(
        client_of(ctx).delete_workspace(name),
        lambda w: console.print(f"deleted workspace {w.name}"),
        json=json,
    )


@workspace_app.command("add-env")
def add_environment(
    ctx: typer.Context,
    workspace: WorkspaceName,
    name: Annotated[str, typer.Argument(help="Environment name (appended to the path).")],
    production: Annotated[bool, typer.Option(help="Mark it as a production environment.")] = False,
    json: Json = False,
) -> None:
    """Append an environment to a workspace's promotion path."""
    print_one(
        client_of(ctx).create_environment(workspace, name, production=production),
        print_workspace,
        json=json,
    )


@datastore_app.command("create")
def create_datastore(
    ctx: typer.Context,
    workspace: WorkspaceName,
    environment: EnvironmentName,
    name: DatastoreName,
    url: Annotated[str, typer.Argument(help="fsspec URL or local path (s3://bucket/prefix).")],
    classification: Annotated[
        str, typer.Option(help="non-production or production.")
    ] = "non-production",
    region: Annotated[str, typer.Option(help="Region label, e.g. eu-west-1.")] = "",
    json: Json = False,
) -> None:
    """Attach a datastore to an environment."""
    cls: Classification = classification  # type: ignore[assignment]  # validated by the service
    print_one(
        client_of(ctx).create_datastore(
            workspace, environment, name, absolute_local(url), classification=cls, region=region
        ),
        lambda d: console.print(f"created datastore {workspace}/{environment}/{d.name} ({d.url})"),
        json=json,
    )


@datastore_app.command("delete")
def delete_datastore(
    ctx: typer.Context,
    workspace: WorkspaceName,
    environment: EnvironmentName,
    name: DatastoreName,
    json: Json = False,
) -> None:
    """Detach a datastore from an environment (its data is left in place)."""
    print_one(
        client_of(ctx).delete_datastore(workspace, environment, name),
        lambda d: console.print(f"deleted datastore {workspace}/{environment}/{d.name}"),
        json=json,
    )
