"""The server's Server-Sent Events stream of domain events, read with httpx from a live
server: it resumes after ``Last-Event-ID`` and shows only what the caller may read. And the
workflow worker that runs inside a server process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import tests.workflows.flows  # noqa: F401 - registers the test workflows
from tests.conftest import LiveServer
from tests.workflows.conftest import wait_status

from modelwright.client import Client, LocalTransport
from modelwright.core.platform import LOCAL_ADMIN, Platform
from modelwright.server import create_app
from modelwright.workflows import Worker, start

STREAM = "/api/v1/events/stream"


@pytest.fixture
def admin(platform: Platform) -> Iterator[Client]:
    with Client(LocalTransport(Platform(platform.settings))) as c:
        yield c


def start_job(platform: Platform, environment: str) -> int:
    with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
        job_id = start(
            ctx.session,
            "test.noop",
            {},
            started_by=LOCAL_ADMIN,
            workspace="ml",
            environment=environment,
        )
    assert job_id is not None
    return job_id


def read_events(lines: Iterator[str], count: int) -> list[dict[str, Any]]:
    """The next ``count`` events of an open stream's lines, each as its fields."""
    events: list[dict[str, Any]] = []
    fields: dict[str, Any] = {}
    for line in lines:
        if not line:
            if "id" in fields:
                events.append(fields)
                if len(events) == count:
                    return events
            fields = {}
            continue
        name, _, value = line.partition(": ")
        fields[name] = value
    raise AssertionError(f"the stream ended after {len(events)} events")


def job_of(event: dict[str, Any]) -> int:
    return int(json.loads(event["data"])["data"]["job"])


def test_the_stream_sends_events_as_they_come_and_resumes_after_the_last_event_id(
    platform: Platform, server: LiveServer, admin: Client
) -> None:
    admin.create_workspace("ml")
    token = admin.create_token(name="sse").secret
    jobs = [start_job(platform, "dev") for _ in range(3)]
    auth = {"authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.url, headers=auth, timeout=10) as http:
        with http.stream("GET", STREAM, params={"kind": "job.*"}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            first = read_events(r.iter_lines(), 2)
        assert [job_of(e) for e in first] == jobs[:2]
        assert all(e["event"] == "job.state_changed" for e in first)

        later = [start_job(platform, "prod") for _ in range(2)]
        with http.stream("GET", STREAM, headers={"last-event-id": first[-1]["id"]}) as r:
            lines = r.iter_lines()
            resumed = read_events(lines, 3)
            live = start_job(platform, "dev")  # appended while the stream is open
            (arrived,) = read_events(lines, 1)
        assert [job_of(e) for e in [*resumed, arrived]] == [jobs[2], *later, live]
        assert [int(e["id"]) for e in resumed] == sorted(int(e["id"]) for e in resumed)


def test_the_stream_needs_a_token_and_shows_only_what_the_caller_may_read(
    platform: Platform, server: LiveServer, admin: Client
) -> None:
    admin.create_workspace("ml")
    admin.create_principal("vera")
    admin.grant("vera", "viewer", "ml", "dev")
    token = admin.create_token(principal="vera", name="sse").secret
    prod, dev = start_job(platform, "prod"), start_job(platform, "dev")
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get(STREAM).status_code == 401
        auth = {"authorization": f"Bearer {token}"}
        refused = http.get(STREAM, params={"workspace": "ml", "environment": "prod"}, headers=auth)
        assert refused.status_code == 403
        assert "may not data.read" in refused.json()["error"]["message"]
        assert http.get(STREAM, params={"since": "-1"}, headers=auth).status_code == 400
        with http.stream("GET", STREAM, headers=auth) as r:
            (only,) = read_events(r.iter_lines(), 1)
        assert job_of(only) == dev != prod


def test_a_server_process_runs_a_workflow_worker_unless_told_not_to(platform: Platform) -> None:
    job = start_job(platform, "dev")
    with LiveServer(platform):
        assert not wait_or_none(platform, job)
    with LiveServer(platform, app=create_app(platform, worker=Worker(platform, poll_seconds=0.05))):
        assert wait_status(platform, job, "succeeded", timeout=20).status == "succeeded"


def wait_or_none(platform: Platform, job_id: int) -> bool:
    """Whether the job finished within half a second."""
    try:
        wait_status(platform, job_id, "succeeded", timeout=0.5)
    except AssertionError:
        return False
    return True
