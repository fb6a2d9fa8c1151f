"""Options shared by many commands, declared once so their flags and help stay the same."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["Detach", "Env", "Imports", "Json", "Limit", "PageToken", "Submit", "Workspace"]

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Workspace = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="MODELWRIGHT_WORKSPACE",
        help="Workspace (default: the only one).",
    ),
]
Env = Annotated[
    str | None,
    typer.Option(
        "--env", "-e", envvar="MODELWRIGHT_ENVIRONMENT", help="Environment (default: the first)."
    ),
]
# Modules that declare workflows, for the commands that run them (worker, server).
Imports = Annotated[
    list[str] | None,
    typer.Option(
        "--import",
        help="A module declaring workflows (repeatable); added to MODELWRIGHT_WORKFLOW_MODULES.",
    ),
]
# Work done by the platform's workers instead of this process.
Submit = Annotated[
    bool,
    typer.Option(
        "--submit",
        help="Run it as a job of the platform's workers, as you (embedded: in this process, "
        "unless --detach).",
    ),
]
Detach = Annotated[
    bool,
    typer.Option("--detach", help="With --submit: print the job id and return at once."),
]
# A list command prints every row unless given a page size or the token of a page.
Limit = Annotated[
    int | None,
    typer.Option("--limit", min=1, help="Print one page of at most this many rows."),
]
PageToken = Annotated[
    str | None,
    typer.Option("--page-token", help="Print the page after the one that printed this token."),
]
