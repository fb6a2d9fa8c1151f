"""What a running workflow sees: steps whose results are recorded, durable sleeps and waits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from modelwright.core.context import Context, utcnow
from modelwright.store import schema

if TYPE_CHECKING:
    from modelwright.core.platform import Platform
    from modelwright.workflows._worker import Worker

__all__ = ["CancelRequested", "Flow", "StepFailed"]

T = TypeVar("T")
J = schema.Job


class Suspended(Exception):
    """The job was left waiting (its state is written); the worker moves on."""


class LeaseLost(Exception):
    """Another worker holds the job now (this one was presumed dead); stop touching it."""


class CancelRequested(Exception):
    """Raised inside a step, the job ends cancelled (the step is not recorded as failed)."""


class StepFailed(Exception):
    """A step failed after its last retry; the job fails with this message."""


@dataclass
class _Recorded:
    name: str
    status: str
    result: dict[str, Any] | None
    attempts: int


class Flow:
    """Passed as the first argument to a workflow function."""

    def __init__(self, worker: Worker, job: schema.Job, steps: dict[int, _Recorded]) -> None:
        self._worker = worker
        self.job_id = job.id
        self.kind = job.kind
        self.workspace = job.workspace
        self.environment = job.environment
        self.started_by = job.started_by
        self._steps = steps
        self._seq = 0
        self._cancel = job.cancel_requested

    # -- the platform, as the principal who started the job -----------------------------
    @property
    def platform(self) -> Platform:
        return self._worker.platform

    def cancel_requested(self) -> bool:
        """Whether someone asked to cancel the job: a long step may look and stop early
        (by raising ``Cancelled``); otherwise the job stops before its next step."""
        with self._worker.sessions() as session:
            return bool(session.scalar(select(J.cancel_requested).where(J.id == self.job_id)))

    @contextmanager
    def unit(self) -> Iterator[Context]:
        platform = self._worker.platform
        with platform.unit(platform.caller(self.started_by)) as ctx:
            yield ctx

    # -- steps ----------------------------------------------------------------------------
    def step(
        self,
        fn: Callable[..., T],
        *args: Any,
        name: str | None = None,
        retries: int = 0,
        backoff: float = 1.0,
        **kwargs: Any,
    ) -> T:
        """Run ``fn`` once for this job and record its (JSON-ready) result.

        A step that was running when its worker died runs again on resume (its result was
        not recorded), so a step with outside effects should be idempotent. On failure it is
        retried ``retries`` times, ``backoff`` × 2ⁿ seconds apart; the wait is durable.
        """
        seq = self._next()
        label = name or str(getattr(fn, "__name__", "step"))
        rec = self._steps.get(seq)
        if rec is not None and rec.status == "succeeded":
            return rec.result["value"] if rec.result else None  # type: ignore[return-value]
        if self._cancel:
            raise CancelRequested
        started = utcnow()
        try:
            value = fn(*args, **kwargs)
        except CancelRequested:
            raise
        except Exception as exc:
            attempts = (rec.attempts if rec else 0) + 1
            message = f"{type(exc).__name__}: {exc}"
            if attempts <= retries:
                wake = utcnow() + timedelta(seconds=backoff * 2 ** (attempts - 1))
                with self._guarded() as session:
                    self._record(
                        session,
                        seq,
                        label,
                        status="retrying",
                        result=None,
                        error=message,
                        attempts=attempts,
                        started=started,
                    )
                    self._suspend(session, wake_at=wake, waiting_for=None)
                raise Suspended from None
            with self._guarded() as session:
                self._record(
                    session,
                    seq,
                    label,
                    status="failed",
                    result=None,
                    error=message,
                    attempts=attempts,
                    started=started,
                )
            raise StepFailed(
                f"step {seq} '{label}' failed after {attempts} attempt(s): {message}"
            ) from exc
        with self._guarded() as session:
            self._record(
                session,
                seq,
                label,
                status="succeeded",
                result={"value": value},
                error=None,
                attempts=0,
                started=started,
            )
        return value

    def sleep(self, seconds: float) -> None:
        self.sleep_until(utcnow() + timedelta(seconds=seconds), _name=f"sleep {seconds}s")

    def sleep_until(self, until: datetime, *, _name: str = "sleep") -> None:
        """Wait until ``until``; the job holds no worker meanwhile and survives restarts."""
        seq = self._next()
        rec = self._steps.get(seq)
        if rec is not None and rec.status == "succeeded":
            return
        if rec is not None and rec.result is not None:
            until = datetime.fromisoformat(rec.result["until"])  # the time first asked for
        now = utcnow()
        with self._guarded() as session:
            if now >= until:
                self._record(
                    session,
                    seq,
                    _name,
                    status="succeeded",
                    result=None,
                    error=None,
                    attempts=0,
                    started=now,
                )
                return
            self._record(
                session,
                seq,
                _name,
                status="sleeping",
                result={"until": until.isoformat()},
                error=None,
                attempts=0,
                started=now,
            )
            self._suspend(session, wake_at=until, waiting_for=None)
        raise Suspended

    def wait_signal(self, name: str) -> dict[str, Any]:
        """The payload of the next signal ``name`` sent to this job, waiting as long as it takes.

        A signal sent before the wait is kept for it. Checking for the signal and parking
        the job happen in one transaction that holds the job's row, as ``signal`` does.
        """
        seq = self._next()
        rec = self._steps.get(seq)
        if rec is not None and rec.status == "succeeded":
            return rec.result["value"] if rec.result else {}
        if self._cancel:
            raise CancelRequested
        now = utcnow()
        with self._guarded() as session:
            sig = session.scalar(
                select(schema.JobSignal)
                .where(
                    schema.JobSignal.job_id == self.job_id,
                    schema.JobSignal.name == name,
                    schema.JobSignal.consumed.is_(False),
                )
                .order_by(schema.JobSignal.id)
                .limit(1)
            )
            if sig is not None:
                sig.consumed = True
                payload = {**sig.payload, "sent_by": sig.sent_by}
                self._record(
                    session,
                    seq,
                    f"signal {name}",
                    status="succeeded",
                    result={"value": payload},
                    error=None,
                    attempts=0,
                    started=now,
                )
                return payload
            self._suspend(session, wake_at=None, waiting_for=name)
        raise Suspended

    # -- recording ------------------------------------------------------------------------
    def _next(self) -> int:
        self._seq += 1
        return self._seq

    @contextmanager
    def _guarded(self) -> Iterator[Session]:
        """A transaction that commits only while this worker still holds the job's lease.

        The guard is the first statement (an UPDATE, so it also locks the row on
        PostgreSQL); it reads whether a cancellation was asked for, seen before the next step.
        """
        with self._worker.sessions() as session, session.begin():
            cancel = session.scalar(
                update(J)
                .where(
                    J.id == self.job_id,
                    J.lease_owner == self._worker.worker_id,
                    J.status == "running",
                )
                .values(updated_at=utcnow())
                .returning(J.cancel_requested)
            )
            if cancel is None:
                raise LeaseLost
            self._cancel = cancel
            yield session

    def _record(
        self,
        session: Session,
        seq: int,
        name: str,
        *,
        status: str,
        result: dict[str, Any] | None,
        error: str | None,
        attempts: int,
        started: datetime,
    ) -> None:
        session.merge(
            schema.JobStep(
                job_id=self.job_id,
                seq=seq,
                name=name,
                status=status,
                result=result,
                error=error,
                attempts=attempts,
                started_at=started,
                finished_at=utcnow(),
            )
        )

    def _suspend(
        self, session: Session, *, wake_at: datetime | None, waiting_for: str | None
    ) -> None:
        from modelwright.workflows._engine import job_state_changed

        session.execute(
            update(J)
            .where(J.id == self.job_id)
            .values(
                status="waiting",
                wake_at=wake_at,
                waiting_for=waiting_for,
                lease_owner=None,
                lease_until=None,
            )
        )
        job_state_changed(
            session,
            self.job_id,
            kind=self.kind,
            workspace=self.workspace,
            environment=self.environment,
            status="waiting",
            principal="worker",
        )
