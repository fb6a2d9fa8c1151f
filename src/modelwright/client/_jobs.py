"""Jobs and domain events in the client: list, show, cancel, retry; events since an id."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

from modelwright.api import jobs as ops
from modelwright.api.operation import Operation
from modelwright.events import models as ev
from modelwright.jobs import models as jm

__all__ = ["JobsMixin"]

Req = TypeVar("Req", bound=BaseModel)
Resp = TypeVar("Resp")


class JobsMixin:
    """The job and event methods of ``Client``."""

    def call(self, op: Operation[Req, Resp], **fields: Any) -> Resp:  # provided by Client
        raise NotImplementedError

    def list_jobs(
        self,
        *,
        status: jm.JobStatus | None = None,
        kind: str | None = None,
        workspace: str | None = None,
        environment: str | None = None,
        limit: int = 100,
    ) -> list[jm.JobInfo]:
        """Jobs of environments the caller may read, newest first."""
        return self.call(
            ops.LIST_JOBS,
            status=status,
            kind=kind,
            workspace=workspace,
            environment=environment,
            limit=limit,
        )

    def get_job(self, job_id: int) -> jm.JobDetail:
        return self.call(ops.GET_JOB, job_id=job_id)

    def cancel_job(self, job_id: int) -> jm.JobDetail:
        return self.call(ops.CANCEL_JOB, job_id=job_id)

    def retry_job(self, job_id: int) -> jm.JobDetail:
        return self.call(ops.RETRY_JOB, job_id=job_id)

    def events(
        self,
        *,
        since: int = 0,
        kind: str | None = None,
        workspace: str | None = None,
        environment: str | None = None,
        limit: int = 100,
    ) -> list[ev.EventInfo]:
        """Domain events with an id greater than ``since``, in id order: pass the last id
        seen to follow them."""
        return self.call(
            ops.LIST_EVENTS,
            since=since,
            kind=kind,
            workspace=workspace,
            environment=environment,
            limit=limit,
        )
