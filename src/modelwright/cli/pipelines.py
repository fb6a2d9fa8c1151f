"""``pipeline list/show/run``: a project's pipelines, as a tree, and tracked runs of them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.tree import Tree

from modelwright.cli._app import client_of
from modelwright.cli._follow import follow
from modelwright.cli._options import Detach, Json, Submit, scoped
from modelwright.cli._output import console, emit_json, table

if TYPE_CHECKING:
    from modelwright.runner import NodeReport, PipelineResult

pipeline_app = typer.Typer(
    help="Pipelines: nodes over a data catalog, cached and tracked.", no_args_is_help=True
)

ProjectDir = Annotated[
    Path,
    typer.Option("--project", "-p", help="The project folder (conf/ and pipelines.py)."),
]

_STYLE = {"ran": "green", "cached": "cyan", "failed": "red", "skipped": "yellow"}


def register(app: typer.Typer) -> None:
    app.add_typer(pipeline_app, name="pipeline")


@pipeline_app.command("list")
def list_pipelines(
    project: ProjectDir = Path(),
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The pipelines a project defines."""
    from modelwright.pipelines.project import load_pipelines

    found = load_pipelines(project)
    if json:
        emit_json({name: [n.name for n in p] for name, p in found.items()})
        return
    table(
        f"Pipelines ({len(found)})",
        ["name", "nodes", "inputs", "outputs"],
        [(name, len(p), p.inputs(), p.outputs()) for name, p in found.items()],
    )


@pipeline_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="The pipeline.")],
    project: ProjectDir = Path(),
    json: Json = False,
) -> None:
    """The pipeline's DAG as a tree: each node under the nodes it depends on."""
    from modelwright.pipelines.project import get_pipeline

    pipe = get_pipeline(project, name)
    if json:
        emit_json(
            {
                "name": name,
                "nodes": [
                    {
                        "name": n.name,
                        "inputs": list(n.inputs),
                        "outputs": list(n.outputs),
                        "tags": sorted(n.tags),
                        "after": sorted(pipe.dependencies[n.name]),
                    }
                    for n in pipe
                ],
            }
        )
        return
    root = Tree(f"[bold]{name}[/bold] ({len(pipe)} nodes)")
    branches: dict[str, Tree] = {}
    for n in pipe:
        deps = sorted(pipe.dependencies[n.name])
        label = f"{n.name}  [dim]{list(n.inputs)} → {list(n.outputs)}[/dim]"
        if n.tags:
            label += f"  [magenta]{', '.join(sorted(n.tags))}[/magenta]"
        parent = branches[deps[0]] if deps else root
        if len(deps) > 1:
            label += f"  [dim](also after {', '.join(deps[1:])})[/dim]"
        branches[n.name] = parent.add(label)
    console.print(root)


@pipeline_app.command("run")
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The pipeline.")],
    project: ProjectDir = Path(),
    env: Annotated[str | None, typer.Option("--env", "-e", help="Environment.")] = None,
    workspace: Annotated[
        str | None,
        scoped("workspace", "--workspace", "-w", otherwise="the only one you can see"),
    ] = None,
    params: Annotated[
        list[str] | None,
        typer.Option("--params", help="Override a parameter: key=value (repeatable)."),
    ] = None,
    executor: Annotated[
        str, typer.Option(help="sequential, process, ray, or one a package adds.")
    ] = "sequential",
    address: Annotated[
        str | None, typer.Option(help="Ray cluster address (ray://host:10001); default local.")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Run every node.")] = False,
    experiment: Annotated[
        str | None,
        typer.Option(help="The runs' experiment (default: <project>-<pipeline>)."),
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Say for each node why it ran or was skipped.")
    ] = False,
    tags: Annotated[
        list[str] | None, typer.Option("--tag", help="Only nodes with this tag (repeatable).")
    ] = None,
    to_outputs: Annotated[
        list[str] | None, typer.Option("--to-output", help="Only what this output needs.")
    ] = None,
    submit: Submit = False,
    detach: Detach = False,
    json: Json = False,
) -> None:
    """Run a pipeline as a tracked run, with live progress per node.

    With --submit, a snapshot of the project (its code and configuration) is run by the
    platform's workers, node after node, as you."""
    from modelwright.runner import NodeFailed, PipelineSession

    client = client_of(ctx)
    if submit:
        job = client.submit_pipeline_run(
            name,
            project,
            params=params or [],
            cache=not no_cache,
            tags=tags or [],
            to_outputs=to_outputs or [],
            workspace=workspace,
            environment=env,
            experiment=experiment,
        )
        follow(client, job, detach=detach, json=json)
        return
    session = PipelineSession(
        client, project, environment=env, workspace=workspace, params=params or []
    )
    pipe = session.pipeline(name)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=json,
    ) as bar:
        task = bar.add_task(f"{name} ({session.environment})", total=len(pipe))

        def progress(report: NodeReport) -> None:
            if report.status == "running":
                bar.update(task, description=f"{name}: running {report.node}")
                return
            style = _STYLE.get(report.status, "white")
            took = f" {report.duration:.2f}s" if report.status == "ran" else ""
            bar.console.print(f"[{style}]{report.status:>7}[/{style}] {report.node}{took}")
            bar.advance(task)

        try:
            result = session.run(
                name,
                executor=executor,
                address=address,
                cache=not no_cache,
                tags=tags or (),
                to_outputs=to_outputs or (),
                progress=None if json else progress,
                experiment=experiment,
            )
        except NodeFailed as exc:
            if json:
                _emit_result(exc.result)
            else:
                if explain:
                    _explain(exc.result.nodes.values())
                console.print(f"run {exc.result.run_id} failed")
            raise
    if json:
        _emit_result(result)
        return
    if explain:
        _explain(result.nodes.values())
    counts = {s: sum(r.status == s for r in result.nodes.values()) for s in ("ran", "cached")}
    console.print(f"run {result.run_id} finished: {counts['ran']} ran, {counts['cached']} cached")


def _emit_result(result: PipelineResult) -> None:
    """The run for scripts: its id, the node that failed, and each node's report (why it ran
    or was skipped, its run, its cache key)."""
    emit_json(
        {
            "run_id": result.run_id,
            "pipeline": result.pipeline,
            "failed": result.failed,
            "nodes": list(result.nodes.values()),
        }
    )


def _explain(reports: Iterable[NodeReport]) -> None:
    table(
        "Why each node ran or was skipped",
        ["node", "status", "reason"],
        [(r.node, r.status, r.reason) for r in reports],
    )
