"""Options shared by many commands, declared once so their flags and help stay the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from modelwright.errors import InvalidInput
from modelwright.settings import client_settings

__all__ = [
    "AtMost",
    "Detach",
    "Env",
    "FilterEnv",
    "FilterWorkspace",
    "Imports",
    "Json",
    "Limit",
    "PageToken",
    "Submit",
    "Workspace",
    "from_settings",
    "scoped",
]


def from_settings(field: str) -> Callable[[str | None], str | None]:
    """An option's callback: the flag, else the client setting of that name (read from
    ``MODELWRIGHT_<FIELD>`` by ``ClientSettings``, the one reader of the client's variables)."""

    def fill(value: str | None) -> str | None:
        if value is not None:
            return value
        try:
            found = getattr(client_settings(), field)
        except InvalidInput as exc:  # a variable that does not parse, named
            raise typer.BadParameter(str(exc)) from None
        return None if found is None else str(found)

    return fill


def scoped(field: str, *flags: str, otherwise: str) -> Any:
    """An option of the scope a command acts in (``workspace``, ``environment``): the flag,
    else the client setting of that name, else what ``otherwise`` says."""
    return typer.Option(
        *flags,
        callback=from_settings(field),
        help=f"{field.capitalize()} (default: $MODELWRIGHT_{field.upper()}, else {otherwise}).",
    )


Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON, for scripts.")]
Workspace = Annotated[
    str | None, scoped("workspace", "--workspace", "-w", otherwise="the only one")
]
Env = Annotated[str | None, scoped("environment", "--env", "-e", otherwise="the first")]
# Filters of a list, not defaults: no MODELWRIGHT_WORKSPACE/ENVIRONMENT here.
FilterWorkspace = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Only this workspace.")
]
FilterEnv = Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")]
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
# A list command that prints one page of a default size.
AtMost = Annotated[int, typer.Option("--limit", help="At most this many.")]
PageToken = Annotated[
    str | None,
    typer.Option("--page-token", help="Print the page after the one that printed this token."),
]
