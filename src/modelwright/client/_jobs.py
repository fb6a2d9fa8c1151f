"""Jobs and domain events in the client: submit, list, show, cancel, retry, signal, wait;
events since an id."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelwright.api import jobs as ops
from modelwright.client._base import ClientBase
from modelwright.core.pages import PagedList
from modelwright.errors import ServiceUnavailable
from modelwright.events import models as ev
from modelwright.jobs import models as jm
from modelwright.objects.models import ObjectScope

if TYPE_CHECKING:
    pass

__all__ = ["JobsMixin"]

# A job in one of these needs nobody to wait for it: it ended, or it waits durably.
_SETTLED = ("succeeded", "failed", "cancelled", "waiting")


class JobsMixin(ClientBase):
    """The job and event methods of ``Client``."""

    # -- submitting work ------------------------------------------------------------------
    def submit_job(
        self,
        spec: jm.PipelineRunSpec | jm.BatchRunSpec | jm.LeaderboardSpec | dict[str, Any],
        *,
        workspace: str | None = None,
        environment: str | None = None,
        reason: str = "",
    ) -> jm.JobDetail:
        """Queue work for the platform's workers, done as this client's principal. ``spec``
        is a spec model or its fields as a dict (with ``kind``)."""
        ws = self.resolve_workspace(workspace)
        return self.call(
            ops.SUBMIT_JOB,
            workspace=ws,
            environment=self.resolve_environment(ws, environment),
            spec=spec,
            reason=reason,
        )

    def submit_pipeline_run(
        self,
        pipeline: str,
        project: str | Path = ".",
        *,
        params: list[str] | None = None,
        cache: bool = True,
        tags: list[str] | None = None,
        to_outputs: list[str] | None = None,
        workspace: str | None = None,
        environment: str | None = None,
        reason: str = "",
        experiment: str | None = None,
    ) -> jm.JobDetail:
        """Snapshot ``project`` (its code and configuration) and queue ``pipeline`` of it;
        its runs go to ``experiment`` (default: named after the project and the pipeline, as
        when run here)."""
        from modelwright.pipelines.project import experiment_name
        from modelwright.pipelines.snapshot import pack_project

        digest = self.transport.put_object(ObjectScope.artifacts(), pack_project(Path(project)))
        spec = jm.PipelineRunSpec(
            pipeline=pipeline,
            project=digest,
            params=params or [],
            cache=cache,
            tags=tags or [],
            to_outputs=to_outputs or [],
            experiment=experiment_name(Path(project), pipeline, experiment),
        )
        return self.submit_job(spec, workspace=workspace, environment=environment, reason=reason)

    def signal_job(
        self, job_id: int, name: str, payload: dict[str, Any] | None = None
    ) -> jm.JobDetail:
        """Send a signal; a job waiting for it continues at once."""
        return self.call(ops.SIGNAL_JOB, job_id=job_id, name=name, payload=payload or {})

    def wait_job(
        self, job_id: int, *, timeout: float | None = None, poll: float = 0.5
    ) -> jm.JobDetail:
        """Until the job ends or waits durably (for a signal, a time). On an embedded
        platform a due job runs right here, as a worker would run it; on a server, its
        workers do."""
        platform = self.transport.local_platform
        if platform is not None:
            from modelwright.workflows import Worker

            Worker(platform).run_now(job_id)
        deadline = None if timeout is None else time.monotonic() + timeout
        while (job := self.get_job(job_id)).status not in _SETTLED:
            if deadline is not None and time.monotonic() > deadline:
                raise ServiceUnavailable(
                    f"job {job_id} is still {job.status} after {timeout:g}s",
                    details={"job": job_id, "status": job.status},
                )
            time.sleep(poll)
        return job

    def list_jobs(
        self,
        *,
        status: jm.JobStatus | None = None,
        kind: str | None = None,
        workspace: str | None = None,
        environment: str | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> PagedList[jm.JobInfo]:
        """Jobs of environments the caller may read, newest first: one page of at most
        ``limit``; pass its ``next_page_token`` as ``page_token`` for the next."""
        return self.call_pages(
            ops.LIST_JOBS,
            page_token=page_token,
            limit=limit,
            status=status,
            kind=kind,
            workspace=workspace,
            environment=environment,
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
