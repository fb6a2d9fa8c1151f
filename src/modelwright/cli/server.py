"""``server``: serve the REST API over the configured stores."""

from __future__ import annotations

from typing import Annotated

import typer

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
) -> None:
    """Serve the REST API (OpenAPI at /docs, /healthz, /metrics). Clients need a token."""
    import uvicorn

    from modelwright.server.app import app_from_settings
    from modelwright.server.run import uvicorn_options

    # Migrate once here, so workers start on a ready schema.
    app_from_settings()
    console.print(f"modelwright server on http://{host}:{port} (docs at /docs)")
    uvicorn.run(
        "modelwright.server.app:app_from_settings",
        factory=True,
        workers=workers,
        **uvicorn_options(host=host, port=port, log_level=log_level),
    )
