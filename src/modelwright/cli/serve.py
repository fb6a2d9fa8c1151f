"""``serve``: run every endpoint of an environment (router + supervised worker processes)."""

from __future__ import annotations

from typing import Annotated

import typer

from modelwright.cli._app import State
from modelwright.cli._options import Env, Workspace
from modelwright.cli._output import console


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    ctx: typer.Context,
    workspace: Workspace = None,
    env: Env = None,
    host: Annotated[str, typer.Option(help="Interface the router listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port of the router.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=64, help="Worker processes per deployment (default: each deployment's own)."
        ),
    ] = None,
    poll: Annotated[
        float,
        typer.Option(min=0.1, help="Seconds between checks for endpoint changes."),
    ] = 2.0,
    ready_timeout: Annotated[
        float, typer.Option(min=1.0, help="Seconds a new deployment may take to start.")
    ] = 120.0,
    body_timeout: Annotated[
        float,
        typer.Option(
            min=0.1,
            help="Seconds a caller has to send a request's body; slower ones are dropped (408).",
        ),
    ] = 30.0,
    stats_interval: Annotated[
        float,
        typer.Option(
            min=0.05,
            envvar="MODELWRIGHT_SERVING_STATS_INTERVAL",
            help="Seconds between writes of serving statistics to the platform.",
        ),
    ] = 5.0,
    require_token: Annotated[
        bool,
        typer.Option(
            "--require-token",
            help="Refuse callers without a token even on the embedded platform "
            "(always on when connected to a server).",
        ),
    ] = False,
) -> None:
    """Serve the endpoints of an environment until Ctrl-C.

    Starts each deployment's worker processes, restarts them when they die, routes requests
    by the traffic weights (or to the deployment named in ``x-modelwright-deployment``),
    mirrors the shadow share, and applies endpoint changes without dropping requests.
    """
    from modelwright.serving.supervisor import serve as run

    state: State = ctx.obj
    client = state.client()
    ws = client.resolve_workspace(workspace)
    environment = client.resolve_environment(ws, env)
    # The workers connect to the same platform the way this command did.
    worker_env: dict[str, str] = {}
    if state.url:
        worker_env["MODELWRIGHT_URL"] = state.url
    if state.token:
        worker_env["MODELWRIGHT_TOKEN"] = state.token
    settings_require = False
    if not state.url:
        from modelwright.settings import Settings

        settings_require = Settings().require_auth
    require = require_token or bool(state.url) or settings_require
    if require:
        # Checking callers' tokens is for a router's service account: say so before starting
        # anything, rather than answering every request with an error.
        client.authorize_invoke("mwt_probe", workspace=ws, environment=environment)
    run(
        client,
        workspace=ws,
        environment=environment,
        host=host,
        port=port,
        workers=workers,
        poll_interval=poll,
        ready_timeout=ready_timeout,
        require_token=require,
        body_timeout=body_timeout,
        stats_interval=stats_interval,
        env=worker_env,
        say=lambda line: console.print(line, markup=False, highlight=False),
    )
