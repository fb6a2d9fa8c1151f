"""Job operations. Each function is one operation: ``(ctx, request) -> response``.

Reading a job needs ``data.read`` in its environment; cancelling, retrying or signalling it
needs the action its workflow kind declared (recorded on the job; ``pipeline.run`` by default)
there. Submitting work (a pipeline run, a batch job, a leaderboard) needs ``pipeline.run``
in the environment; the worker then does the work as the submitter, so every read and write
it makes is checked against the submitter's grants as they are when it runs.
Platform-wide jobs (no workspace) are platform admins' own. A job the caller may not see is
not found, whichever way it is asked for. Every change is audited in its transaction; the
engine appends the ``job.state_changed`` event in the same one.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import eq
from typing import Any

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.core.filters import where_given
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.lookup import get_environment, require_member
from modelwright.core.models import from_row
from modelwright.core.pages import Page
from modelwright.core.scopes import check_scope_filter, may_see, visible
from modelwright.errors import NotFound
from modelwright.jobs import models as m
from modelwright.objects.service import require_nameable
from modelwright.store import schema
from modelwright.workflows import cancel, retry, signal, start

__all__ = ["cancel_job", "get_job", "list_jobs", "retry_job", "signal_job", "submit_job"]

J = schema.Job


def list_jobs(ctx: Context, req: m.ListJobs) -> Page[m.JobInfo]:
    """Newest first; only jobs of environments the caller may read."""
    check_scope_filter(ctx, Action.DATA_READ, req.workspace, req.environment)
    query = select(J).where(visible(ctx, Action.DATA_READ, J.workspace, J.environment))
    query = where_given(
        query,
        (J.status, eq, req.status),
        (J.kind, eq, req.kind),
        (J.workspace, eq, req.workspace),
        (J.environment, eq, req.environment),
    )
    jobs, token = keyset_page(ctx.session, query, [Key(J.id, descending=True)], req, scope="jobs")
    return Page(items=[_info(job) for job in jobs], next_page_token=token)


def get_job(ctx: Context, req: m.JobRef) -> m.JobDetail:
    return _detail(ctx, _job(ctx, req.job_id))


def cancel_job(ctx: Context, req: m.JobRef) -> m.JobDetail:
    """A job not running stops now; a running one before its next step."""
    return _change(
        ctx, req.job_id, "job.cancel", lambda j: cancel(ctx.session, j.id, by=ctx.caller.name)
    )


def retry_job(ctx: Context, req: m.JobRef) -> m.JobDetail:
    """A failed or cancelled job runs again from its first unfinished step."""
    return _change(
        ctx, req.job_id, "job.retry", lambda j: retry(ctx.session, j.id, by=ctx.caller.name)
    )


def submit_job(ctx: Context, req: m.SubmitJob) -> m.JobDetail:
    """Queue work for the platform's workers, to be done as the caller."""
    require_member(ctx, req.workspace)
    env = get_environment(ctx, req.workspace, req.environment)
    ctx.require(Action.PIPELINE_RUN, req.workspace, req.environment)
    spec = req.spec
    if isinstance(spec, m.PipelineRunSpec):
        # The snapshot is read by the worker as the caller: it must be the caller's to name.
        require_nameable(ctx, [spec.project], env)
    inputs = spec.model_dump(mode="json", exclude={"kind"})
    job_id = start(
        ctx.session,
        spec.kind,
        inputs,
        started_by=ctx.caller.name,
        workspace=req.workspace,
        environment=req.environment,
        reason=req.reason,
    )
    if job_id is None:  # only a keyed start can find its job there already
        raise RuntimeError("the job was not queued")
    job = _job(ctx, job_id)
    _audit(ctx, "job.submit", job, {})
    return _detail(ctx, job)


def signal_job(ctx: Context, req: m.SignalJob) -> m.JobDetail:
    """Deliver a signal; a job waiting for it continues at once."""
    return _change(
        ctx,
        req.job_id,
        "job.signal",
        lambda j: signal(ctx.session, j.id, req.name, req.payload, sent_by=ctx.caller.name),
        signal=req.name,
    )


def _change(
    ctx: Context,
    job_id: int,
    action: str,
    change: Callable[[schema.Job], object],
    **extra: Any,
) -> m.JobDetail:
    """One change to a job the caller may change, audited with its state before and after."""
    job = _for_change(ctx, job_id)
    before = _state(job)
    change(job)
    _audit(ctx, action, job, before, **extra)
    return _detail(ctx, job)


# -- lookups ----------------------------------------------------------------------------------
def _job(ctx: Context, job_id: int, *, lock: bool = False) -> schema.Job:
    query = select(J).where(J.id == job_id)
    if lock:
        # Held until the change commits, so a worker cannot change the job in between.
        query = query.with_for_update()
    job = ctx.session.scalar(query)
    if job is None or not _sees(ctx, job):
        raise NotFound(f"job {job_id} not found", details={"job": job_id})
    return job


def _sees(ctx: Context, job: schema.Job) -> bool:
    """Visible to who may read its environment; a member of the workspace who may not is
    told so (``PermissionDenied``) rather than that it does not exist."""
    if may_see(ctx, Action.DATA_READ, job.workspace, job.environment):
        return True
    if job.workspace and ctx.is_member(job.workspace):
        ctx.require(Action.DATA_READ, job.workspace, job.environment)
    return False


def _for_change(ctx: Context, job_id: int) -> schema.Job:
    job = _job(ctx, job_id, lock=True)
    if not job.workspace:
        ctx.require_platform_admin(f"change platform-wide job {job.id}")
    else:
        ctx.require(Action(job.action), job.workspace, job.environment)
    return job


# -- rendering --------------------------------------------------------------------------------
def _value(stored: dict[str, Any] | None) -> Any:
    """Results are stored as ``{"value": ...}`` (a sleep's as ``{"until": ...}``)."""
    if stored is None:
        return None
    return stored["value"] if set(stored) == {"value"} else stored


def _info(job: schema.Job) -> m.JobInfo:
    return from_row(m.JobInfo, job, result=_value(job.result))


def _detail(ctx: Context, job: schema.Job) -> m.JobDetail:
    ctx.session.flush()
    steps = ctx.session.scalars(
        select(schema.JobStep).where(schema.JobStep.job_id == job.id).order_by(schema.JobStep.seq)
    )
    return m.JobDetail(
        **_info(job).model_dump(),
        steps=[
            from_row(
                m.StepInfo,
                s,
                seconds=(s.finished_at - s.started_at).total_seconds() if s.finished_at else None,
                result=_value(s.result),
            )
            for s in steps
        ],
    )


def _state(job: schema.Job) -> dict[str, Any]:
    return {"status": job.status, "cancel_requested": job.cancel_requested}


def _audit(
    ctx: Context, action: str, job: schema.Job, before: dict[str, Any], **extra: Any
) -> None:
    ctx.audit(
        action,
        workspace=job.workspace,
        environment=job.environment,
        target=f"job:{job.id}",
        before=before,
        after={**_state(job), **extra},
    )
