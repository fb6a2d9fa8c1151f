"""``runs delete/restore``, ``experiments delete/restore``, ``model delete-version``,
``datasets delete-version`` and ``gc``."""

from __future__ import annotations

from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._options import Json, Workspace
from modelwright.cli._output import console, print_one, table
from modelwright.cli.datasets import Env as DatasetEnv
from modelwright.cli.datasets import _size, datasets_app
from modelwright.cli.models import ModelName, model_app
from modelwright.cli.runs import RunId, experiments_app, runs_app
from modelwright.gc.models import GarbageReport
from modelwright.tracking.models import Deletion

Permanent = Annotated[
    bool,
    typer.Option(
        "--permanent",
        help="Remove it for good (only once deleted for MODELWRIGHT_DELETION_RETENTION_DAYS); "
        "its objects are freed by `modelwright gc`.",
    ),
]
ExperimentName = Annotated[str, typer.Argument(help="Experiment name.")]


def register(app: typer.Typer) -> None:
    app.command("gc")(gc)


def _deleted(d: Deletion) -> None:
    others = len(d.runs) - (1 if d.target.startswith("run/") else 0)
    with_runs = f" with {others} run(s)" if others > 0 else ""
    if d.permanent:
        console.print(f"{d.target} deleted permanently{with_runs}")
    else:
        console.print(
            f"{d.target} deleted{with_runs}; restorable, and deletable permanently from "
            f"{d.permanent_after:%Y-%m-%d %H:%M} UTC"
        )


@runs_app.command("delete")
def delete_run(
    ctx: typer.Context, run_id: RunId, permanent: Permanent = False, json: Json = False
) -> None:
    """Delete a run and its child runs: hidden from `runs list`, restorable."""
    print_one(client_of(ctx).delete_run(run_id, permanent=permanent), _deleted, json=json)


@runs_app.command("restore")
def restore_run(ctx: typer.Context, run_id: RunId, json: Json = False) -> None:
    """Restore a deleted run, with the child runs deleted with it."""
    print_one(
        client_of(ctx).restore_run(run_id),
        lambda r: console.print(f"run {r.id} restored ({r.status})"),
        json=json,
    )


@experiments_app.command("delete")
def delete_experiment(
    ctx: typer.Context,
    name: ExperimentName,
    workspace: Workspace = None,
    permanent: Permanent = False,
    json: Json = False,
) -> None:
    """Delete an experiment and its runs: hidden from listings, restorable."""
    deletion = client_of(ctx).delete_experiment(name, workspace=workspace, permanent=permanent)
    print_one(deletion, _deleted, json=json)


@experiments_app.command("restore")
def restore_experiment(
    ctx: typer.Context, name: ExperimentName, workspace: Workspace = None, json: Json = False
) -> None:
    """Restore a deleted experiment, with the runs deleted with it."""
    print_one(
        client_of(ctx).restore_experiment(name, workspace=workspace),
        lambda e: console.print(f"experiment {e.name} restored ({e.runs} runs)"),
        json=json,
    )


@model_app.command("delete-version")
def delete_model_version(
    ctx: typer.Context,
    name: ModelName,
    version: Annotated[int, typer.Argument(help="Version number.")],
    workspace: Workspace = None,
    json: Json = False,
) -> None:
    """Delete a model version for good; refused while an alias, an endpoint, a rollout or
    an open promotion uses it."""
    print_one(
        client_of(ctx).delete_model_version(name, version, workspace=workspace),
        lambda v: console.print(f"{v.uri} deleted; its files are freed by `modelwright gc`"),
        json=json,
    )


@datasets_app.command("delete-version")
def delete_dataset_version(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="name@v3, or env/name@v3.")],
    env: DatasetEnv = None,
    workspace: Workspace = None,
    json: Json = False,
) -> None:
    """Delete a dataset version for good; refused while the lineage of a model version or a
    monitor's baseline needs it."""
    print_one(
        client_of(ctx).delete_dataset_version(ref, workspace=workspace, environment=env),
        lambda v: console.print(
            f"{v.environment}/{v.name}@v{v.version} deleted; its bytes are freed by "
            "`modelwright gc`"
        ),
        json=json,
    )


def gc(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only report what would be freed.")
    ] = False,
    json: Json = False,
) -> None:
    """Delete the stored objects (artifacts, dataset files and packs) that no live run,
    model version, dataset version or cache entry names, older than
    MODELWRIGHT_GC_GRACE_MINUTES; reports the bytes freed."""
    print_one(client_of(ctx).collect_garbage(dry_run=dry_run), _report, json=json)


def _report(r: GarbageReport) -> None:
    table(
        "Garbage collection" + (" (dry run: nothing deleted)" if r.dry_run else ""),
        ["store", "objects", "live", "recent", "freed", "bytes freed"],
        [
            (s.store, s.objects, s.live, s.recent, s.freed, _size(s.bytes_freed))
            if not s.error
            else (s.store, "-", "-", "-", "-", s.error)
            for s in r.stores
        ],
    )
    verb = "would free" if r.dry_run else "freed"
    console.print(
        f"{verb} {r.objects_freed} object(s), {_size(r.bytes_freed)} "
        f"(objects written in the last {r.grace_minutes:g} minutes are kept)"
    )
