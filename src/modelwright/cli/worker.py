"""``worker``: run durable workflows against the configured platform database."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from modelwright.cli._app import State, err_console
from modelwright.cli._options import Imports
from modelwright.cli._output import print_done
from modelwright.errors import InvalidInput

# Repeatable option shared with ``server``.


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    ctx: typer.Context,
    queues: Annotated[
        str | None, typer.Option(help="Only these queues, comma-separated (default: all).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs run at once.")] = 1,
    once: Annotated[
        bool, typer.Option("--once", help="Run what is due, then exit (for cron and CI).")
    ] = False,
    imports: Imports = None,
    json: Annotated[
        bool, typer.Option("--json", help="With --once: print what ran as JSON.")
    ] = False,
) -> None:
    """Run workflow jobs, schedules and triggers (embedded home or MODELWRIGHT_DB_URL).

    Workflows are found through the entry-point group ``modelwright.workflows`` and the
    modules named by --import or MODELWRIGHT_WORKFLOW_MODULES.
    """
    state: State = ctx.obj
    if state.url:
        raise InvalidInput(
            "--url: a worker works on the platform database itself; "
            "set MODELWRIGHT_DB_URL (or MODELWRIGHT_HOME) instead"
        )
    from modelwright.core.platform import Platform
    from modelwright.settings import Settings
    from modelwright.workflows import Worker, load_workflows, workflow_kinds

    settings = Settings()
    load_workflows([*settings.workflow_modules, *(imports or [])])
    chosen = [q.strip() for q in (queues or "").split(",") if q.strip()] or None
    platform = Platform(settings)
    try:
        runner = Worker(platform, queues=chosen, concurrency=concurrency)
        kinds = ", ".join(workflow_kinds()) or "none"
        if once:
            ran = runner.run_once()
            print_done(
                f"ran {ran} job(s); workflows known: {kinds}",
                json=json,
                ran=ran,
                workflows=workflow_kinds(),
            )
            return
        err_console.print(
            f"worker {runner.worker_id}: queues {', '.join(chosen or ['all'])}, "
            f"concurrency {concurrency}; workflows: {kinds} (Ctrl-C stops)"
        )
        # SIGTERM (a service manager's stop) ends the loop like Ctrl-C.
        signal.signal(signal.SIGTERM, lambda *_: runner.stop(timeout=0))
        runner.run_forever()
    finally:
        platform.close()
