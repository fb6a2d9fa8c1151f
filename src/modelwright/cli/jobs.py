"""``jobs list/show/cancel/retry/signal/wait`` and ``events``; how a submitting command
follows its job."""

from __future__ import annotations

import json as jsonlib
import time
from typing import Annotated

import typer

from modelwright.cli._app import State
from modelwright.cli._options import Json, PageToken
from modelwright.cli._output import console, emit_json, emit_rows_json, fmt, hint_next_page, table
from modelwright.client import Client
from modelwright.errors import ModelwrightError
from modelwright.jobs import models as jm

jobs_app = typer.Typer(
    help="Jobs: the runs of durable workflows, their steps, cancel and retry.",
    no_args_is_help=True,
)

JobId = Annotated[int, typer.Argument(help="Job id.")]
# Filters, not defaults: no MODELWRIGHT_WORKSPACE/ENVIRONMENT here.
FilterWorkspace = Annotated[
    str | None, typer.Option("--workspace", "-w", help="Only this workspace.")
]
FilterEnv = Annotated[str | None, typer.Option("--env", "-e", help="Only this environment.")]
Limit = Annotated[int, typer.Option(help="At most this many.")]


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
    app.command("events")(events)


def _where(workspace: str, environment: str) -> str:
    return f"{workspace}/{environment}" if workspace else "(platform)"


def _show(job: jm.JobDetail, json: bool) -> None:
    if json:
        emit_json(job)
        return
    console.print(
        f"[bold]Job {job.id}[/bold] {job.kind} in {_where(job.workspace, job.environment)}: "
        f"{job.status}{' (cancel requested)' if job.cancel_requested else ''}"
    )
    console.print(f"started by {job.started_by} at {fmt(job.created_at)}: {job.reason or '-'}")
    if job.waiting_for:
        console.print(f"waiting for signal '{job.waiting_for}'")
    elif job.status == "waiting" and job.wake_at:
        console.print(f"sleeping until {fmt(job.wake_at)}")
    if job.error:
        console.print(f"[red]error[/red]: {job.error}", markup=True)
    elif job.status == "succeeded":
        console.print(f"result: {fmt(job.result)}")
    table(
        f"Steps ({len(job.steps)})",
        ["#", "step", "status", "started (UTC)", "seconds", "failed attempts", "result / error"],
        [
            (
                s.seq,
                s.name,
                s.status,
                s.started_at,
                None if s.seconds is None else f"{s.seconds:.3f}",
                s.attempts,
                s.error or fmt(s.result),
            )
            for s in job.steps
        ],
    )


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
    limit: Limit = 100,
    page_token: PageToken = None,
    json: Json = False,
) -> None:
    """Jobs of environments you may read, newest first."""
    state: State = ctx.obj
    found = state.client().list_jobs(
        status=status,  # type: ignore[arg-type]  # checked by the request model
        kind=kind,
        workspace=workspace,
        environment=env,
        limit=limit,
        page_token=page_token,
    )
    hint_next_page(found)
    if json:
        emit_rows_json(found, paged=page_token is not None)
        return
    table(
        f"Jobs ({len(found)})",
        ["id", "kind", "where", "status", "started by", "created (UTC)", "finished (UTC)", "why"],
        [
            (
                j.id,
                j.kind,
                _where(j.workspace, j.environment),
                j.status,
                j.started_by,
                j.created_at,
                j.finished_at,
                j.reason,
            )
            for j in found
        ],
    )


@jobs_app.command("show")
def show(ctx: typer.Context, job_id: JobId, json: Json = False) -> None:
    """A job with its steps: timings, results and errors."""
    state: State = ctx.obj
    _show(state.client().get_job(job_id), json)


@jobs_app.command("cancel")
def cancel(ctx: typer.Context, job_id: JobId, json: Json = False) -> None:
    """Cancel a job (a running one stops before its next step)."""
    state: State = ctx.obj
    _show(state.client().cancel_job(job_id), json)


@jobs_app.command("retry")
def retry(ctx: typer.Context, job_id: JobId, json: Json = False) -> None:
    """Run a failed or cancelled job again from its first unfinished step."""
    state: State = ctx.obj
    _show(state.client().retry_job(job_id), json)


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
    state: State = ctx.obj
    _show(state.client().signal_job(job_id, name, body), json)


@jobs_app.command("wait")
def wait(
    ctx: typer.Context,
    job_id: JobId,
    timeout: Annotated[float | None, typer.Option(help="Give up after this many seconds.")] = None,
    json: Json = False,
) -> None:
    """Wait until a job ends or waits durably (embedded: run it here if it is due)."""
    state: State = ctx.obj
    follow(state.client(), state.client().get_job(job_id), detach=False, json=json, timeout=timeout)


class JobFailed(ModelwrightError):
    """The followed job failed or was cancelled (its error was printed)."""


def follow(
    client: Client,
    job: jm.JobDetail,
    *,
    detach: bool,
    json: bool,
    timeout: float | None = None,
) -> jm.JobDetail:
    """After submitting: say which job it is, then (unless ``detach``) wait for it and show it;
    a job that failed makes the command fail."""
    if not json:
        where = _where(job.workspace, job.environment)
        console.print(f"job {job.id} ({job.kind} in {where}) {job.status}")
    if detach:
        if json:
            emit_json(job)
        else:
            console.print(f"follow it with: modelwright jobs wait {job.id}")
        return job
    done = client.wait_job(job.id, timeout=timeout)
    _show(done, json)
    if done.status in ("failed", "cancelled"):
        raise JobFailed(f"job {done.id} {done.status}: {done.error or 'cancelled'}")
    return done


def events(
    ctx: typer.Context,
    since: Annotated[int, typer.Option(help="Only events with a greater id.")] = 0,
    kind: Annotated[
        str | None, typer.Option(help="A kind (alias.moved) or a prefix (job.*).")
    ] = None,
    workspace: FilterWorkspace = None,
    env: FilterEnv = None,
    limit: Limit = 100,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events until Ctrl-C.")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object a line.")] = False,
) -> None:
    """Domain events after an id, in id order (of environments you may read)."""
    state: State = ctx.obj
    client = state.client()
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
                    f"{e.id}  {fmt(e.at)}  {e.kind}  {_where(e.workspace, e.environment)}  "
                    f"{e.subject}  by {e.principal or '-'}  {jsonlib.dumps(e.data)}",
                    markup=False,
                )
        if batch:
            cursor = batch[-1].id
        if not follow:
            return
        if len(batch) < limit:
            time.sleep(0.5)
