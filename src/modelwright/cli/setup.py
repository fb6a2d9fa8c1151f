"""``apply`` and ``export``: the platform as code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._output import console, emit_json, print_done
from modelwright.errors import InvalidInput
from modelwright.setup.models import Plan
from modelwright.setup.yaml_io import absolute_paths, dump_spec, load_spec

_SYMBOL = {
    "create": "[green]+ create[/green]",
    "update": "[yellow]~ update[/yellow]",
    "unchanged": "[dim]= unchanged[/dim]",
    "remove": "[red]- remove[/red]",
}


def register(app: typer.Typer) -> None:
    app.command("apply")(apply)
    app.command("export")(export)


def apply(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Option("-f", "--file", help="The platform.yaml to apply ('-' for stdin).")
    ],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only print the plan.")] = False,
    prune: Annotated[
        bool,
        typer.Option(
            help="Also remove workspaces, principals and roles the file does not declare."
        ),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before removing.")] = False,
    show_unchanged: Annotated[
        bool, typer.Option("--show-unchanged", help="List unchanged objects too.")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Create or update workspaces, environments, datastores, principals, roles and grants.

    Prints the plan (create / update / unchanged / remove) first, then applies it in one
    transaction. Applying the same file twice changes nothing.
    """
    spec = absolute_paths(load_spec(_read(file), source=str(file), variables=os.environ))
    client = client_of(ctx)
    plan = client.apply(spec, dry_run=True, prune=prune)
    if json and dry_run:
        emit_json(plan)
        return
    if not json:
        print_plan(plan, show_unchanged=show_unchanged)
    if dry_run or not plan.has_changes:
        return
    removals = plan.count("remove")
    if removals and not yes:
        if not sys.stdin.isatty():
            raise InvalidInput(
                f"the plan removes {removals} object(s); pass --yes to confirm without a terminal"
            )
        typer.confirm(f"Remove {removals} object(s)?", abort=True)
    applied = client.apply(spec, prune=prune)
    if json:
        emit_json(applied)
    else:
        console.print(f"[bold green]Applied.[/bold green] {_summary(applied)}")


def export(
    ctx: typer.Context,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Write to a file (its folders are made) instead of stdout."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite --output if it exists.")
    ] = False,
    json: Annotated[
        bool,
        typer.Option("--json", help="Write JSON instead of YAML (which 'apply' reads too)."),
    ] = False,
) -> None:
    """Write the current state as a platform.yaml that "apply" accepts."""
    if output is not None and output.exists() and not force:
        raise typer.BadParameter(
            f"{output} exists; pass --force to overwrite it", param_hint="--output"
        )
    spec = client_of(ctx).export()
    text = dump_spec(spec, json=json)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        # Written whole or not at all: a failed write never leaves half a file behind.
        partial = output.with_name(f".{output.name}.partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(output)
    except OSError as exc:
        raise typer.BadParameter(
            f"cannot write {output}: {exc.strerror or exc}", param_hint="--output"
        ) from None
    print_done(f"wrote {output}", json=json, wrote=str(output))


def print_plan(plan: Plan, *, show_unchanged: bool = False) -> None:
    for c in plan.changes:
        if c.action == "unchanged" and not show_unchanged:
            continue
        console.print(f"  {_SYMBOL[c.action]:<32} {c.kind} [bold]{c.key}[/bold]")
        for field, (old, new) in c.changes.items():
            console.print(f"        {field}: {old!r} → {new!r}", markup=False)
    console.print(f"Plan: {_summary(plan)}")


def _summary(plan: Plan) -> str:
    return (
        f"{plan.count('create')} to create, {plan.count('update')} to update, "
        f"{plan.count('remove')} to remove, {plan.count('unchanged')} unchanged"
        if not plan.applied
        else f"{plan.count('create')} created, {plan.count('update')} updated, "
        f"{plan.count('remove')} removed, {plan.count('unchanged')} unchanged"
    )


def _read(file: Path) -> str:
    if str(file) == "-":
        return sys.stdin.read()
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"file: '{file}' does not exist", details={"field": "file"}) from None
    except (IsADirectoryError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            f"file: cannot read '{file}': {exc}", details={"field": "file"}
        ) from None
