"""``jobs list/show/cancel/retry/signal/wait`` and ``events``."""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import Callable
from typing import Annotated

import typer

from modelwright.cli._app import client_of
from modelwright.cli._follow import follow, print_job, where
from modelwright.cli._options import AtMost, FilterEnv, FilterWorkspace, Json, PageToken
from modelwright.cli._output import console, fmt, print_one, print_rows
from modelwright.client import Client
from modelwright.jobs import models as jm

jobs_app = typer.Typer(
    help="Jobs: the runs of durable workflows, their steps, cancel and retry.",
    no_args_is_help=True,
)

JobId = Annotated[int, typer.Argument(help="Job id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
    app.command("events")(events)


@jobs_app.command("list")
def list_jobs(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(help="queued, running, waiting, succeeded, failed or cancelled."),
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Only jobs of this workflow kind.")] = None,
    workspace: FilterWorkspace = None,
    env: FilterEnv = None,
    limit: AtMost = 100,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """Jobs of environments you may read, newest first."""
    found = client_of(ctx).list_jobs(
        status=status,  # type: ignore[arg-type]  # checked by the request model
        kind=kind,
        workspace=workspace,
        environment=env,
        limit=limit,
        page_token=page_token,
    )
    print_rows(
        found,
        f"Jobs ({len(found)})",
        ["id", "kind", "where", "status", "started by", "created (UTC)", "finished (UTC)", "why"],
        lambda j: (
            j.id,
            j.kind,
            where(j.workspace, j.environment),
            j.status,
            j.started_by,
            j.created_at,
            j.finished_at,
            j.reason,
        ),
        json=json,
        paged=page_token is not None,
    )


# Commands that make one call on a job and show it: each verb's client method and help.
_ACTIONS: dict[str, tuple[Callable[[Client, int], jm.JobDetail], str]] = {
    "show": (Client.get_job, "A job with its steps: timings, results and errors."),
    "cancel": (Client.cancel_job, "Cancel a job (a running one stops before its next step)."),
    "retry": (
        Client.retry_job,
        "Run a failed or cancelled job again from its first unfinished step.",
    ),
}


def _act(ctx: typer.Context, job_id: JobId, json: Json = False) -> None:
    call, _ = _ACTIONS[ctx.command.name or ""]
    print_one(call(client_of(ctx), job_id), print_job, json=json)


for _verb, (_, _help) in _ACTIONS.items():
    jobs_app.command(_verb, help=_help)(_act)


@jobs_app.command("signal")
def signal(
    ctx: typer.Context,
    job_id: JobId,
    name: Annotated[str, typer.Argument(help="The signal, as the workflow waits for it.")],
    payload: Annotated[
        str, typer.Option(help="A JSON object sent with it: '{\"ok\": true}'.")
    ] = "{}",
    json: Json = False,
) -> None:
    """Send a job a signal (a job waiting for it continues at once)."""
    try:
        body = jsonlib.loads(payload)
    except ValueError as exc:
        raise typer.BadParameter(f"not JSON: {exc}", param_hint="--payload") from None
    if not isinstance(body, dict):
        raise typer.BadParameter("must be a JSON object", param_hint="--payload")
    print_one(client_of(ctx).signal_job(job_id, name, body), print_job, json=json)


@jobs_app.command("wait")
def wait(
    ctx: typer.Context,
    job_id: JobId,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
    json: Json = False,
) -> None:
    """Wait until a job ends or waits durably (embedded: run it here if it is due)."""
    client = client_of(ctx)
    follow(client, client.get_job(job_id), detach=False, json=json, timeout=timeout)


def events(
    ctx: typer.Context,
    since: Annotated[int, typer.Option(help="Only events with a greater id.")] = 0,
    kind: Annotated[
        str | None, typer.Option(help="A kind (alias.moved) or a prefix (job.*).")
    ] = None,
    workspace: FilterWorkspace = None,
    env: FilterEnv = None,
    limit: AtMost = 100,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events until Ctrl-C.")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object a line.")] = False,
) -> None:
    """Domain events after an id, in id order (of environments you may read)."""
    client = client_of(ctx)
    cursor = since
    while True:
        batch = client.events(
            since=cursor, kind=kind, workspace=workspace, environment=env, limit=limit
        )
        for e in batch:
            if json:
                typer.echo(e.model_dump_json())
            else:
                console.print(
                    f"{e.id}  {fmt(e.at)}  {e.kind}  {where(e.workspace, e.environment)}  "
                    f"{e.subject}  by {e.principal or '-'}  {jsonlib.dumps(e.data)}",
                    markup=False,
                )
        if batch:
            cursor = batch[-1].id
        if not follow:
            return
        if len(batch) < limit:
            time.sleep(0.5)
