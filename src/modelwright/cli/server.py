"""``server``: serve the REST API over the configured stores."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from modelwright.cli._options import Imports
from modelwright.cli._output import console


def register(app: typer.Typer) -> None:
    app.command("server")(server)


def server(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8080,
    workers: Annotated[
        int, typer.Option(help="Worker processes (stateless; share the stores).")
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    no_worker: Annotated[
        bool,
        typer.Option(
            "--no-worker", help="Run no workflow worker in the server (run `modelwright worker`)."
        ),
    ] = False,
    imports: Imports = None,
) -> None:
    """Serve the REST API (OpenAPI at /docs, /healthz, /metrics). Clients need a token.

    Each server process also runs a workflow worker unless --no-worker is given.
    """
    import uvicorn

    from modelwright.server.app import app_from_settings
    from modelwright.server.run import uvicorn_options
    from modelwright.settings import Settings
    from modelwright.workflows import load_workflows

    if imports:
        # Server processes read their settings from the environment.
        modules = [*Settings().workflow_modules, *imports]
        os.environ["MODELWRIGHT_WORKFLOW_MODULES"] = ",".join(modules)
    if not no_worker:
        load_workflows(Settings().workflow_modules)  # a bad module fails here, in one line
    # Migrate once here, so workers start on a ready schema.
    app_from_settings()
    factory = "app_from_settings" if no_worker else "app_with_worker_from_settings"
    worker = "no workflow worker" if no_worker else "with a workflow worker"
    console.print(f"modelwright server on http://{host}:{port} (docs at /docs), {worker}")
    uvicorn.run(
        f"modelwright.server.app:{factory}",
        factory=True,
        workers=workers,
        **uvicorn_options(host=host, port=port, log_level=log_level),
    )
