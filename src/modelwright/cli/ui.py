"""``ui``: the web UI over the embedded platform, for one person on this machine."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from modelwright.cli._output import console


def register(app: typer.Typer) -> None:
    app.command("ui")(ui)


def ui(
    home: Annotated[
        Path | None,
        typer.Option(help="The platform's home (default: $MODELWRIGHT_HOME, else ~/.modelwright)."),
    ] = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    principal: Annotated[str, typer.Option(help="Whom the sign-in link signs in as.")] = "admin",
    hours: Annotated[
        float, typer.Option(min=0.1, help="How long the session's token lives, in hours.")
    ] = 12.0,
) -> None:
    """Serve the web UI over the embedded platform and print a link that signs in once.

    The link holds a one-time code, not the token: opened once, it sets a session cookie.
    The token behind it expires after --hours and is revoked when the command stops.
    """
    import uvicorn

    from modelwright.access.models import CreateToken, RevokeToken
    from modelwright.api.invoke import run_operation
    from modelwright.api.operations import CREATE_TOKEN, REVOKE_TOKEN
    from modelwright.core.clock import utcnow
    from modelwright.core.platform import Platform
    from modelwright.server import create_app
    from modelwright.server.run import uvicorn_options
    from modelwright.settings import Settings
    from modelwright.workflows import Worker, load_workflows

    settings = Settings(home=home) if home is not None else Settings()
    load_workflows(settings.workflow_modules)
    platform = Platform(settings)
    caller = platform.caller(principal)
    expires = utcnow() + timedelta(hours=hours)
    created = run_operation(
        platform, caller, CREATE_TOKEN, CreateToken(name="modelwright ui", expires_at=expires)
    )
    app = create_app(platform, worker=Worker(platform))
    nonce = app.state.ui_auth.one_time_link(created.secret, ttl=hours * 3600)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 (only compared)
    console.print(f"modelwright UI over {settings.home}, signed in as {principal}:")
    console.print(f"    http://{shown}:{port}/sign-in?once={nonce}", soft_wrap=True)
    console.print("The link works once; stop with Ctrl+C.")
    try:
        uvicorn.run(app, **uvicorn_options(host=host, port=port, log_level="warning"))
    finally:
        run_operation(platform, caller, REVOKE_TOKEN, RevokeToken(token_id=created.id))
        platform.close()
