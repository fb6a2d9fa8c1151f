"""The root command, its global options, and the one-line error handling of every command."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from modelwright.cli._help import show_flags_plainly
from modelwright.cli._options import from_settings
from modelwright.cli._output import fit_to_terminal
from modelwright.client import Client, connect
from modelwright.errors import ModelwrightError

__all__ = ["State", "app", "client_of", "main"]

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
show_flags_plainly()


@dataclass
class State:
    """Global options; the client is opened on first use so ``--help`` never touches a store."""

    home: Path | None = None
    url: str | None = None
    token: str | None = None
    debug: bool = False
    _client: Client | None = field(default=None, repr=False)

    def client(self) -> Client:
        if self._client is None:
            target: str | Path | None = self.url or self.home
            self._client = connect(target, token=self.token)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def client_of(ctx: typer.Context) -> Client:
    """The client the global options name, opened on first use."""
    state: State = ctx.obj
    return state.client()


app = typer.Typer(
    name="modelwright",
    help="modelwright: carry a model from a notebook to a production endpoint and back.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            envvar="MODELWRIGHT_HOME",
            help="Home of the embedded platform (SQLite database and artifacts).",
            show_default="./.modelwright",
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(
            callback=from_settings("url"),
            help="Talk to a modelwright server instead (default: $MODELWRIGHT_URL).",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            callback=from_settings("token"),
            help="API token, required with --url (default: $MODELWRIGHT_TOKEN).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    if home is not None:
        # The embedded platform reads its settings from the environment.
        os.environ["MODELWRIGHT_HOME"] = str(home)
    state = State(home=home, url=url, token=token, debug=debug)
    ctx.obj = state
    ctx.call_on_close(state.close)


def _register() -> None:
    from modelwright.cli import (
        access,
        audit,
        batch,
        datasets,
        deletion,
        endpoints,
        jobs,
        models,
        monitor_alerts,
        monitor_retrain,
        monitors,
        pipelines,
        promotions,
        rollouts,
        runs,
        serve,
        server,
        setup,
        ui,
        worker,
        workspaces,
    )

    for module in (
        setup,
        workspaces,
        access,
        audit,
        runs,
        datasets,
        deletion,
        server,
        ui,
        models,
        pipelines,
        endpoints,
        serve,
        batch,
        jobs,
        promotions,
        rollouts,
        monitors,
        monitor_alerts,
        monitor_retrain,
        worker,
    ):
        module.register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: typed errors become one line on stderr and a non-zero exit."""
    debug = "--debug" in (argv if argv is not None else sys.argv)
    fit_to_terminal()
    try:
        # Without standalone mode click returns typer.Exit codes instead of exiting.
        code = app(args=argv, prog_name="modelwright", standalone_mode=False)
    except ModelwrightError as exc:
        if debug:
            raise
        # A node's failure says on a second line where the user's code failed.
        err_console.print(f"[red]error[/red] ({exc.code}): {escape(exc.message)}", markup=True)
        raise SystemExit(1) from None
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("aborted")
        raise SystemExit(1) from None
    except SystemExit:
        raise
    except typer.exceptions.TyperException as exc:
        # Usage errors (missing argument, bad option value): click's own message and exit 2.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    except Exception as exc:
        if debug:
            raise
        err_console.print(
            f"[red]error[/red] (internal): {type(exc).__name__}: {exc} (run with --debug for the traceback)"
        )
        raise SystemExit(1) from None
    if isinstance(code, int) and code:
        raise SystemExit(code)
