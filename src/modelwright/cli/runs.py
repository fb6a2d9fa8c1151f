"""``runs list/show/compare/kill``, ``experiments list`` and ``lineage``."""

from __future__ import annotations

import math
from typing import Annotated

import typer
from rich.markup import escape
from rich.tree import Tree

from modelwright.cli._app import client_of
from modelwright.cli._options import FilterEnv, Json, Limit, PageToken, Workspace
from modelwright.cli._output import console, emit_json, fmt, print_one, print_rows, table
from modelwright.errors import error_headline
from modelwright.lineage.models import LineageNode
from modelwright.tracking import models as tm

runs_app = typer.Typer(help="Tracked runs: params, metrics, tags, artifacts.", no_args_is_help=True)
experiments_app = typer.Typer(help="Experiments: named groups of runs.", no_args_is_help=True)

RunId = Annotated[str, typer.Argument(help="Run id, or a unique prefix of 8 or more characters.")]
View = Annotated[
    tm.ViewType,
    typer.Option(
        "--view", help="active_only (not deleted), deleted_only (restorable ones) or all."
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(runs_app, name="runs")
    app.add_typer(experiments_app, name="experiments")
    app.command("lineage")(lineage)


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    if math.isnan(v) or math.isinf(v):
        return str(v)
    return f"{v:.6g}"


@runs_app.command("list")
def list_runs(
    ctx: typer.Context,
    filter: Annotated[
        str, typer.Argument(help="e.g. \"metrics.auc > 0.8 and params.depth = '5'\"")
    ] = "",
    workspace: Workspace = None,
    experiment: Annotated[
        str | None, typer.Option("--experiment", "-x", help="Only this experiment.")
    ] = None,
    env: FilterEnv = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", "-o", help="e.g. 'metrics.auc DESC' (repeatable)."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many runs.")] = 50,
    page_token: PageToken = None,
    view: View = "active_only",
    json: Json = False,
) -> None:
    """Search runs; newest first unless --order-by says otherwise."""
    runs = client_of(ctx).search_runs(
        filter,
        workspace=workspace,
        experiment=experiment,
        environment=env,
        order_by=order_by,
        max_results=limit,
        page_token=page_token,
        view_type=view,
    )
    metric_keys = sorted({k for r in runs for k in r.metrics})[:6]
    print_rows(
        runs,
        f"Runs ({len(runs)})",
        ["id", "experiment", "name", "env", "status", "started", *metric_keys],
        lambda r: (
            r.id[:12],
            r.experiment,
            r.name,
            r.environment,
            r.status,
            r.started_at,
            *(_num(r.metrics.get(k)) for k in metric_keys),
        ),
        json=json,
        paged=page_token is not None,
    )


@runs_app.command("show")
def show_run(ctx: typer.Context, run_id: RunId, json: Json = False) -> None:
    """A run's params, metrics, tags, artifacts and environment snapshot."""
    print_one(client_of(ctx).get_run(run_id), print_run, json=json)


def print_run(r: tm.RunDetail) -> None:
    console.print(f"[bold]Run {r.id}[/bold] {r.name}")
    git = r.snapshot.get("git") or {}
    table(
        None,
        ["field", "value"],
        [
            ("experiment", f"{r.workspace}/{r.experiment}"),
            ("environment", r.environment),
            ("status", r.status),
            ("by", r.created_by),
            ("started", r.started_at),
            ("ended", r.ended_at),
            ("heartbeat", r.heartbeat_at),
            ("parent", r.parent_id),
            ("python", r.snapshot.get("python")),
            (
                "git",
                f"{git.get('commit', '')[:12]}{' (dirty)' if git.get('dirty') else ''}"
                if git
                else None,
            ),
            ("packages", len(r.snapshot.get("packages", []))),
        ],
    )
    if r.error:
        # Where the user's code failed, when the record says; else the exception (its last line).
        head, frame = error_headline(r.error)
        if frame:
            console.print(f"[red]error:[/red] {escape(head)}\n  {escape(frame)}")
        else:
            console.print(f"[red]error:[/red] {escape(r.error.strip().splitlines()[-1])}")
    table("Params", ["key", "value"], sorted(r.params.items()))
    table(
        "Metrics (latest)", ["key", "value"], [(k, _num(v)) for k, v in sorted(r.metrics.items())]
    )
    if r.tags:
        table("Tags", ["key", "value"], sorted(r.tags.items()))
    if r.artifacts:
        table(
            "Artifacts",
            ["path", "size", "sha256"],
            [(a.path, a.size, a.digest[:16]) for a in r.artifacts],
        )


@runs_app.command("kill")
def kill(ctx: typer.Context, run_id: RunId, json: Json = False) -> None:
    """Mark a running or lost run killed, with its running child runs (a pipeline's nodes)."""
    print_one(
        client_of(ctx).kill_run(run_id),
        lambda r: console.print(f"run {r.id} killed: {r.error}"),
        json=json,
    )


@runs_app.command("compare")
def compare(
    ctx: typer.Context,
    run_ids: Annotated[list[str], typer.Argument(help="Two or more run ids.")],
    all_: Annotated[bool, typer.Option("--all", help="Also list what is the same.")] = False,
    json: Json = False,
) -> None:
    """A table of the params and metrics that differ between runs."""
    c = client_of(ctx).compare_runs(run_ids)
    if json:
        emit_json(c)
        return
    head = ["", *(i[:12] for i in c.run_ids)]
    rows: list[tuple[object, ...]] = [
        (f"params.{k}", *(fmt(v) for v in vs)) for k, vs in c.params.items()
    ]
    rows += [(f"metrics.{k}", *(_num(v) for v in vs)) for k, vs in c.metrics.items()]
    if all_:
        rows += [(f"params.{k}", *([v] * len(c.run_ids))) for k, v in c.same_params.items()]
        rows += [(f"metrics.{k}", *([_num(v)] * len(c.run_ids))) for k, v in c.same_metrics.items()]
    table(f"Differences ({len(c.params) + len(c.metrics)})", head, rows)
    if not all_ and (c.same_params or c.same_metrics):
        console.print(
            f"[dim]{len(c.same_params) + len(c.same_metrics)} equal values hidden (--all shows them)[/dim]"
        )


@experiments_app.command("list")
def list_experiments(
    ctx: typer.Context,
    workspace: Workspace = None,
    limit: Limit = None,
    page_token: PageToken = None,
    view: View = "active_only",
    json: Json = False,
) -> None:
    """List experiments with their run counts."""
    print_rows(
        client_of(ctx).list_experiments(
            workspace, page_token=page_token, limit=limit, view_type=view
        ),
        "Experiments",
        ["name", "runs", "created", "by"],
        lambda e: (e.name, e.runs, e.created_at, e.created_by),
        json=json,
        paged=limit is not None or page_token is not None,
    )


def lineage(
    ctx: typer.Context,
    entity: Annotated[
        str,
        typer.Argument(
            help="run:<id>, dataset:<env>/<name>@<version>, artifact:<sha256>, "
            "model:<name>/<version> or a models:/ URI"
        ),
    ],
    workspace: Workspace = None,
    depth: Annotated[int, typer.Option(help="How many steps to follow.")] = 10,
    impact: Annotated[
        bool,
        typer.Option(
            "--impact", help="What depends on it: model versions, where they serve, datasets."
        ),
    ] = False,
    json: Json = False,
) -> None:
    """What an entity came from (ancestors) and what came from it (descendants), as trees."""
    g = client_of(ctx).lineage(entity, workspace=workspace, depth=depth, impact=impact)
    if json:
        emit_json(g)
        return
    if g.impact is not None:
        i = g.impact
        console.print(f"[bold]Impact of {g.entity.label}[/bold]")
        console.print(f"model versions: {', '.join(i.model_versions) or 'none'}")
        table(
            "Serving them now",
            ["environment", "endpoint", "deployment", "weight", "model"],
            [
                (s.environment, s.endpoint, s.deployment, f"{s.weight}%", s.model)
                for s in i.endpoints
            ],
        )
        console.print(f"derived datasets: {', '.join(i.datasets) or 'none'}")
        if i.hidden:
            console.print(f"{i.hidden} more downstream entities you may not read")
        return
    for title, nodes, arrow in (
        ("ancestors", g.ancestors, "←"),
        ("descendants", g.descendants, "→"),
    ):
        tree = Tree(f"[bold]{g.entity.label}[/bold] [dim]({title})[/dim]")
        _grow(tree, nodes, arrow)
        console.print(tree)


def _grow(tree: Tree, nodes: list[LineageNode], arrow: str) -> None:
    for n in nodes:
        branch = tree.add(f"{arrow} [dim]{n.relation}[/dim] {n.label}")
        _grow(branch, n.children, arrow)
