"""The small interface over the engine: start, signal, cancel, retry, status, schedule, trigger.

Each function works inside the caller's transaction, so a job starts (or a signal is sent)
exactly when the change that asked for it commits. Permission checks and audit belong to the
callers (``service``); these functions only keep the engine's rules.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Protocol

from cronsim import CronSim, CronSimError
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from modelwright.core.context import utcnow
from modelwright.core.events import append_event
from modelwright.errors import Conflict, InvalidInput, NotFound
from modelwright.store import schema
from modelwright.workflows._registry import get_workflow

__all__ = [
    "ACTIVE",
    "FINISHED",
    "announce",
    "cancel",
    "create_schedule",
    "create_trigger",
    "job_state_changed",
    "next_occurrence",
    "retry",
    "signal",
    "start",
]

J = schema.Job
ACTIVE = ("queued", "running", "waiting")
FINISHED = ("succeeded", "failed", "cancelled")


def start(
    session: Session,
    kind: str,
    inputs: dict[str, Any] | None = None,
    *,
    started_by: str,
    workspace: str = "",
    environment: str = "",
    reason: str = "",
    key: str | None = None,
    queue: str | None = None,
    at: datetime | None = None,
) -> int | None:
    """Queue a job; returns its id, or None when a job with ``key`` exists already."""
    definition = get_workflow(kind)
    now = utcnow()
    values = {
        "kind": kind,
        "queue": queue or (definition.queue if definition else "default"),
        "action": definition.action.value if definition else "pipeline.run",
        "workspace": workspace,
        "environment": environment,
        "inputs": inputs or {},
        "status": "queued",
        "reason": reason,
        "started_by": started_by,
        "key": key,
        "wake_at": at or now,
        "cancel_requested": False,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert: Any = postgresql.insert(J) if dialect == "postgresql" else sqlite.insert(J)
    stmt = insert.values(values)
    if key is not None:
        stmt = stmt.on_conflict_do_nothing(index_elements=["key"])
    job_id: int | None = session.scalar(stmt.returning(J.id))
    if job_id is not None:
        job_state_changed(
            session,
            job_id,
            kind=kind,
            workspace=workspace,
            environment=environment,
            status="queued",
            principal=started_by,
        )
    return job_id


class JobOwner(Protocol):
    """A row that one job drives (a promotion, a rollout, a retraining)."""

    @property
    def id(self) -> int: ...

    job_id: int | None


def start_for(
    session: Session,
    owner: JobOwner,
    name: str,
    kind: str,
    *,
    started_by: str,
    workspace: str,
    environment: str,
    reason: str,
) -> None:
    """Store the new ``owner`` and queue the job that drives it: the job's input is
    ``<name>_id``, its key ``<name>:<id>``, so the owner never gets two."""
    session.add(owner)
    session.flush()
    owner.job_id = start(
        session,
        kind,
        {f"{name}_id": owner.id},
        started_by=started_by,
        workspace=workspace,
        environment=environment,
        reason=reason,
        key=f"{name}:{owner.id}",
    )


def job_state_changed(
    session: Session,
    job_id: int,
    *,
    kind: str,
    workspace: str,
    environment: str,
    status: str,
    principal: str,
) -> None:
    append_event(
        session,
        "job.state_changed",
        at=utcnow(),
        workspace=workspace,
        environment=environment,
        subject=f"job/{job_id}",
        principal=principal,
        data={"job": job_id, "kind": kind, "status": status},
    )


def announce(session: Session, job: schema.Job, status: str, principal: str) -> None:
    """The ``job.state_changed`` event of a job row that is now ``status``."""
    job_state_changed(
        session,
        job.id,
        kind=job.kind,
        workspace=job.workspace,
        environment=job.environment,
        status=status,
        principal=principal,
    )


def locked_job(session: Session, job_id: int) -> schema.Job:
    """The job row, locked against the workers' updates until this transaction ends."""
    job = session.scalar(select(J).where(J.id == job_id).with_for_update())
    if job is None:
        raise NotFound(f"job {job_id} not found", details={"job": job_id})
    return job


def signal(
    session: Session, job_id: int, name: str, payload: dict[str, Any], *, sent_by: str
) -> schema.Job:
    """Deliver ``name`` to the job; a job waiting for it becomes due at once."""
    job = locked_job(session, job_id)
    if job.status in FINISHED:
        raise Conflict(
            f"job {job_id} is {job.status}: it takes no more signals",
            details={"job": job_id, "status": job.status},
        )
    now = utcnow()
    session.add(
        schema.JobSignal(
            job_id=job_id, name=name, payload=payload, sent_by=sent_by, sent_at=now, consumed=False
        )
    )
    if job.status == "waiting" and job.waiting_for == name:
        job.wake_at = now
    job.updated_at = now
    return job


def cancel(session: Session, job_id: int, *, by: str) -> schema.Job:
    """A job not running stops now; a running one stops before its next step."""
    job = locked_job(session, job_id)
    if job.status in FINISHED:
        raise Conflict(
            f"job {job_id} is {job.status} already", details={"job": job_id, "status": job.status}
        )
    now = utcnow()
    job.cancel_requested = True
    job.updated_at = now
    if job.status != "running":
        job.status = "cancelled"
        job.finished_at = now
        job.lease_owner = None
        announce(session, job, "cancelled", by)
    return job


def retry(session: Session, job_id: int, *, by: str) -> schema.Job:
    """Run a failed or cancelled job again from its first unfinished step."""
    job = locked_job(session, job_id)
    if job.status not in ("failed", "cancelled"):
        raise Conflict(
            f"job {job_id} is {job.status}: only a failed or cancelled job can be retried",
            details={"job": job_id, "status": job.status},
        )
    now = utcnow()
    # Finished steps keep their results; the failed one starts again with fresh attempts.
    session.execute(
        delete(schema.JobStep).where(
            schema.JobStep.job_id == job_id, schema.JobStep.status != "succeeded"
        )
    )
    job.status = "queued"
    job.wake_at = now
    job.error = None
    job.cancel_requested = False
    job.finished_at = None
    job.updated_at = now
    announce(session, job, "queued", by)
    return job


# -- schedules --------------------------------------------------------------------------------
def next_occurrence(cron: str | None, every: float | None, after: datetime) -> datetime:
    """The first occurrence strictly after ``after``."""
    if cron is not None:
        return next(CronSim(cron, after))
    if every is None or every <= 0:
        raise InvalidInput("a schedule needs a cron expression or a positive interval")
    return after + timedelta(seconds=every)


def latest_due(schedule: schema.Schedule, now: datetime) -> tuple[datetime, datetime]:
    """(the latest occurrence not after ``now``, the occurrence after it).

    Catch-up policy: after downtime only the latest missed occurrence fires (once); the
    ones before it are skipped, so a five-minute monitor down for a day runs once, not 288
    times.
    """
    if schedule.every_seconds is not None:
        step = schedule.every_seconds
        k = math.floor((now - schedule.next_at).total_seconds() / step)
        fire = schedule.next_at + timedelta(seconds=k * step)
        return fire, fire + timedelta(seconds=step)
    fire = schedule.next_at
    for upcoming in CronSim(schedule.cron or "", schedule.next_at):
        if upcoming > now:
            return fire, upcoming
        fire = upcoming
    raise AssertionError("unreachable: a cron iterator never ends")


def create_schedule(
    session: Session,
    name: str,
    kind: str,
    *,
    created_by: str,
    cron: str | None = None,
    every_seconds: float | None = None,
    inputs: dict[str, Any] | None = None,
    workspace: str = "",
    environment: str = "",
) -> schema.Schedule:
    if (cron is None) == (every_seconds is None):
        raise InvalidInput(f"schedule '{name}': give either a cron expression or an interval")
    try:
        first = next_occurrence(cron, every_seconds, utcnow())
    except CronSimError as exc:
        raise InvalidInput(f"schedule '{name}': bad cron expression '{cron}': {exc}") from None
    if session.get(schema.Schedule, name) is not None:
        raise Conflict(f"schedule '{name}' exists already", details={"schedule": name})
    row = schema.Schedule(
        name=name,
        kind=kind,
        workspace=workspace,
        environment=environment,
        inputs=inputs or {},
        cron=cron,
        every_seconds=every_seconds,
        next_at=first,
        created_by=created_by,
    )
    session.add(row)
    return row


def create_trigger(
    session: Session,
    name: str,
    event_kind: str,
    workflow: str,
    *,
    created_by: str,
    filter: dict[str, Any] | None = None,
    from_start: bool = False,
) -> schema.Trigger:
    """Events appended from now on (or every stored one, ``from_start``) start ``workflow``."""
    if session.get(schema.Trigger, name) is not None:
        raise Conflict(f"trigger '{name}' exists already", details={"trigger": name})
    cursor = (
        0
        if from_start
        else session.scalar(select(schema.Event.id).order_by(schema.Event.id.desc()).limit(1)) or 0
    )
    row = schema.Trigger(
        name=name,
        event_kind=event_kind,
        filter=filter or {},
        workflow=workflow,
        cursor=cursor,
        created_by=created_by,
    )
    session.add(row)
    return row
