"""Workers: claim due jobs under a lease, run them, fire schedules and dispatch triggers.

A claim is one transaction: on PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` lets workers
pass over each other's candidates; on SQLite the write lock taken at BEGIN serialises them.
The claimant holds a lease that its clock thread renews; a worker that dies (SIGKILL) stops
renewing, and once the lease expires any worker takes the job over and replays it from its
recorded steps. Every write made for a job checks the lease first (``Flow._guarded``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from importlib import import_module
from typing import Any, TypeVar

from sqlalchemy import Select, and_, func, or_, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from modelwright.core.context import utcnow
from modelwright.core.platform import Platform
from modelwright.store import schema
from modelwright.workflows import _engine
from modelwright.workflows._flow import (
    CancelRequested,
    Flow,
    LeaseLost,
    StepFailed,
    Suspended,
    _Recorded,
)
from modelwright.workflows._registry import BUILTIN, get_workflow, queue_limit

__all__ = ["Worker"]

J = schema.Job
_Sel = TypeVar("_Sel", bound=Select[Any])
log = logging.getLogger("modelwright.workflows")


class Worker:
    """Runs jobs of ``queues`` (all when None) on ``concurrency`` threads."""

    def __init__(
        self,
        platform: Platform,
        *,
        queues: Sequence[str] | None = None,
        concurrency: int = 1,
        lease_seconds: float = 30.0,
        poll_seconds: float = 0.2,
    ) -> None:
        self.platform = platform
        self.queues = list(queues) if queues else None
        self.concurrency = concurrency
        self.lease = timedelta(seconds=lease_seconds)
        self.poll = poll_seconds
        self.worker_id = f"{socket.gethostname()}~{os.getpid()}~{uuid.uuid4().hex[:8]}"
        self.sessions: sessionmaker[Session] = platform._sessions
        self._pg = platform.engine.dialect.name == "postgresql"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        import_module(BUILTIN)  # every worker runs the work any caller may submit

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Run in background threads until ``stop``."""
        self._threads = [threading.Thread(target=self._clock, daemon=True, name="mw-clock")]
        self._threads += [
            threading.Thread(target=self._loop, daemon=True, name=f"mw-worker-{i}")
            for i in range(self.concurrency)
        ]
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout)

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            self.stop()

    def run_once(self) -> int:
        """Fire what is due, then run due jobs until none is left; returns how many ran."""
        self.tick()
        ran = 0
        with self._clock_running():
            while (job := self.claim()) is not None:
                self.run_job(job)
                ran += 1
        return ran

    def run_now(self, job_id: int) -> bool:
        """Run one job here if it is due, until it finishes or reaches a durable wait
        (how a command on the embedded platform runs the job it started). False when it
        is not due, or another worker has it."""
        with self._clock_running():
            job = self.claim(job_id)
            if job is None:
                return False
            self.run_job(job)
        return True

    @contextmanager
    def _clock_running(self) -> Iterator[None]:
        """The clock renews leases meanwhile, so a long step keeps its job."""
        self._stop.clear()
        clock = threading.Thread(target=self._clock, daemon=True, name="mw-clock")
        clock.start()
        try:
            yield
        finally:
            self._stop.set()
            clock.join()
            self._stop.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.claim()
                if job is None:
                    self._stop.wait(self.poll)
                else:
                    self.run_job(job)
            except Exception:
                log.exception("worker loop")
                self._stop.wait(self.poll)

    def _clock(self) -> None:
        beat = 0.0
        while not self._stop.wait(min(self.poll, self.lease.total_seconds() / 3)):
            try:
                self.heartbeat()
                self.tick()
            except Exception:
                log.exception("worker clock")
            beat += 1

    # -- the clock: leases, schedules, triggers -------------------------------------------
    def heartbeat(self) -> None:
        with self.sessions() as session, session.begin():
            session.execute(
                update(J)
                .where(J.lease_owner == self.worker_id, J.status == "running")
                .values(lease_until=utcnow() + self.lease)
            )

    def tick(self) -> None:
        self.fire_schedules()
        self.dispatch_triggers()

    def fire_schedules(self) -> int:
        """Start each due occurrence once: the row lock (or SQLite's write lock) and the
        job key ``schedule:NAME:TIME`` both stop a second worker firing it again."""
        fired = 0
        now = utcnow()
        with self.sessions() as session, session.begin():
            due = session.scalars(
                self._skip_locked(select(schema.Schedule).where(schema.Schedule.next_at <= now))
            ).all()
            for s in due:
                fire, after = _engine.latest_due(s, now)
                job = _engine.start(
                    session,
                    s.kind,
                    s.inputs,
                    started_by=s.created_by,
                    workspace=s.workspace,
                    environment=s.environment,
                    reason=f"schedule '{s.name}' at {fire.isoformat()}",
                    key=f"schedule:{s.name}:{fire.isoformat()}",
                )
                fired += job is not None
                s.next_at = after
        return fired

    def dispatch_triggers(self, batch: int = 1000) -> int:
        """Start a job per matching event, in id order; the job key ``trigger:NAME:ID``
        and the cursor, moved in the same transaction, make it once per event."""
        started = 0
        with self.sessions() as session, session.begin():
            triggers = session.scalars(self._skip_locked(select(schema.Trigger))).all()
            for t in triggers:
                events = session.scalars(
                    select(schema.Event)
                    .where(schema.Event.kind == t.event_kind, schema.Event.id > t.cursor)
                    .order_by(schema.Event.id)
                    .limit(batch)
                ).all()
                for e in events:
                    if _matches(t.filter, e):
                        job = _engine.start(
                            session,
                            t.workflow,
                            {"event": _event_dict(e)},
                            started_by=t.created_by,
                            workspace=e.workspace,
                            environment=e.environment,
                            reason=f"trigger '{t.name}' on event {e.id} ({e.kind})",
                            key=f"trigger:{t.name}:{e.id}",
                        )
                        started += job is not None
                if events:
                    t.cursor = events[-1].id
        return started

    def _skip_locked(self, stmt: _Sel) -> _Sel:
        return stmt.with_for_update(skip_locked=True) if self._pg else stmt

    # -- jobs -----------------------------------------------------------------------------
    def claim(self, job_id: int | None = None) -> schema.Job | None:
        """Take one due job (or the given one, if due) under this worker's lease."""
        now = utcnow()
        due = or_(
            and_(J.status.in_(("queued", "waiting")), J.wake_at <= now),
            and_(J.status == "running", J.lease_until < now),
        )
        query = select(J).where(due).order_by(J.wake_at, J.id).limit(8)
        if job_id is not None:
            query = query.where(J.id == job_id)
        if self.queues is not None:
            query = query.where(J.queue.in_(self.queues))
        with self.sessions() as session, session.begin():
            for job in session.scalars(self._skip_locked(query)).all():
                if job.cancel_requested:
                    job.status = "cancelled"
                    job.finished_at = job.updated_at = now
                    job.lease_owner = None
                    _engine.announce(session, job, "cancelled", "worker")
                    continue
                if not self._queue_has_room(session, job.queue, now):
                    continue
                job.status = "running"
                job.lease_owner = self.worker_id
                job.lease_until = now + self.lease
                job.waiting_for = None
                job.updated_at = now
                session.flush()
                session.expunge(job)
                return job
        return None

    def _queue_has_room(self, session: Session, queue: str, now: Any) -> bool:
        limit = queue_limit(queue)
        if limit is None:
            return True
        if self._pg:
            # Counting and claiming must not interleave between two workers.
            session.execute(
                text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(queue.encode())}
            )
        running = session.scalar(
            select(func.count())
            .select_from(J)
            .where(J.queue == queue, J.status == "running", J.lease_until >= now)
        )
        return (running or 0) < limit

    def run_job(self, job: schema.Job) -> None:
        definition = get_workflow(job.kind)
        if definition is None:
            self._finish(
                job,
                "failed",
                error=f"no workflow of kind '{job.kind}' is registered in this worker",
            )
            return
        with self.sessions() as session:
            steps = {
                s.seq: _Recorded(s.name, s.status, s.result, s.attempts)
                for s in session.scalars(
                    select(schema.JobStep).where(schema.JobStep.job_id == job.id)
                )
            }
        flow = Flow(self, job, steps)
        try:
            result = definition.fn(flow, **job.inputs)
        except Suspended:
            return
        except LeaseLost:
            log.warning("job %s: lease lost to another worker", job.id)
            return
        except CancelRequested:
            self._finish(job, "cancelled")
            return
        except StepFailed as exc:
            self._finish(job, "failed", error=str(exc))
            return
        except Exception as exc:
            self._finish(job, "failed", error=f"{type(exc).__name__}: {exc}")
            return
        self._finish(job, "succeeded", result=result)

    def _finish(
        self, job: schema.Job, status: str, *, result: Any = None, error: str | None = None
    ) -> None:
        now = utcnow()
        with self.sessions() as session, session.begin():
            done = session.execute(
                update(J)
                .where(J.id == job.id, J.lease_owner == self.worker_id, J.status == "running")
                .values(
                    status=status,
                    result=None if result is None else {"value": result},
                    error=error,
                    lease_owner=None,
                    lease_until=None,
                    finished_at=now,
                    updated_at=now,
                )
            )
            if done.rowcount:  # type: ignore[attr-defined]
                _engine.announce(session, job, status, "worker")


def _matches(filter: dict[str, Any], event: schema.Event) -> bool:
    """Every key of the filter equals the event's field of that name, or its data's."""
    fields = _event_dict(event)
    return all(fields.get(k, event.data.get(k)) == v for k, v in filter.items())


def _event_dict(e: schema.Event) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "kind": e.kind,
        "workspace": e.workspace,
        "environment": e.environment,
        "subject": e.subject,
        "principal": e.principal,
        "data": e.data,
    }
