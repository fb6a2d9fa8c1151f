"""The ``modelwright`` command line: a thin shell over the client (embedded or remote).

The console script imports ``main`` from here, and so does every process that
``multiprocessing`` spawns from the command (it re-imports the script's module): the Typer
app and its commands are imported when ``main`` runs, not when this package is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelwright.cli._app import app

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``modelwright`` command."""
    from modelwright.cli._app import main as run

    run(argv)


def __getattr__(name: str) -> Any:
    if name == "app":
        from modelwright.cli._app import app

        return app
    raise AttributeError(f"module 'modelwright.cli' has no attribute {name!r}")
