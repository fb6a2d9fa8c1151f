"""Operations of jobs (runs of durable workflows) and of domain events."""

from __future__ import annotations

from modelwright.api.operation import Operation
from modelwright.core.pages import Page
from modelwright.events import models as ev
from modelwright.jobs import models as jm

V1 = "/api/v1"
_JOB = f"{V1}/jobs/{{job_id}}"

LIST_JOBS = Operation(
    "list_jobs",
    "GET",
    f"{V1}/jobs",
    jm.ListJobs,
    Page[jm.JobInfo],
    "modelwright.jobs.service:list_jobs",
    "List jobs of environments the caller may read (newest first)",
    "jobs",
)
GET_JOB = Operation(
    "get_job",
    "GET",
    _JOB,
    jm.JobRef,
    jm.JobDetail,
    "modelwright.jobs.service:get_job",
    "A job with its steps: timings, results and errors",
    "jobs",
)
CANCEL_JOB = Operation(
    "cancel_job",
    "POST",
    f"{_JOB}/cancel",
    jm.JobRef,
    jm.JobDetail,
    "modelwright.jobs.service:cancel_job",
    "Cancel a job (a running one stops before its next step)",
    "jobs",
)
RETRY_JOB = Operation(
    "retry_job",
    "POST",
    f"{_JOB}/retry",
    jm.JobRef,
    jm.JobDetail,
    "modelwright.jobs.service:retry_job",
    "Run a failed or cancelled job again from its first unfinished step",
    "jobs",
)
SUBMIT_JOB = Operation(
    "submit_job",
    "POST",
    f"{V1}/workspaces/{{workspace}}/environments/{{environment}}/jobs",
    jm.SubmitJob,
    jm.JobDetail,
    "modelwright.jobs.service:submit_job",
    "Submit a pipeline run, batch job or leaderboard for the workers, done as the caller",
    "jobs",
)
SIGNAL_JOB = Operation(
    "signal_job",
    "POST",
    f"{_JOB}/signals",
    jm.SignalJob,
    jm.JobDetail,
    "modelwright.jobs.service:signal_job",
    "Send a job a signal (a job waiting for it continues at once)",
    "jobs",
)
LIST_EVENTS = Operation(
    "list_events",
    "GET",
    f"{V1}/events",
    ev.EventsQuery,
    list[ev.EventInfo],
    "modelwright.events.service:list_events",
    "Domain events after an id, in id order (the stream: /api/v1/events/stream)",
    "events",
)

OPERATIONS: tuple[Operation, ...] = tuple(  # type: ignore[type-arg]
    v for v in globals().values() if isinstance(v, Operation)
)
