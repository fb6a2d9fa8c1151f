"""How a command shows a job, and follows the job it submitted until it ends."""

from __future__ import annotations

from typing import Any

from modelwright.cli._output import console, emit_json, fmt, print_one, table
from modelwright.client import Client
from modelwright.errors import ModelwrightError
from modelwright.jobs import models as jm

__all__ = ["JobFailed", "follow", "print_job", "submit", "where"]


class JobFailed(ModelwrightError):
    """The followed job failed or was cancelled (its error was printed)."""


def where(workspace: str, environment: str) -> str:
    return f"{workspace}/{environment}" if workspace else "(platform)"


def print_job(job: jm.JobDetail) -> None:
    console.print(
        f"[bold]Job {job.id}[/bold] {job.kind} in {where(job.workspace, job.environment)}: "
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
        console.print(
            f"job {job.id} ({job.kind} in {where(job.workspace, job.environment)}) {job.status}"
        )
    if detach:
        if json:
            emit_json(job)
        else:
            console.print(f"follow it with: modelwright jobs wait {job.id}")
        return job
    done = client.wait_job(job.id, timeout=timeout)
    print_one(done, print_job, json=json)
    if done.status in ("failed", "cancelled"):
        raise JobFailed(f"job {done.id} {done.status}: {done.error or 'cancelled'}")
    return done


def submit(
    client: Client,
    spec: dict[str, Any],
    *,
    workspace: str | None,
    env: str | None,
    detach: bool,
    json: bool,
) -> jm.JobDetail:
    """``--submit``: the work as a job of the platform's workers, followed as ``follow`` does."""
    job = client.submit_job(spec, workspace=workspace, environment=env)
    return follow(client, job, detach=detach, json=json)
