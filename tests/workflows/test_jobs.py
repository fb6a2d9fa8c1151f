"""Jobs and domain events through the client, over both backends and both databases: what a
job shows, who may cancel or retry it, and that nobody sees what they may not read."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Connector

from modelwright.client import Client
from modelwright.core.platform import LOCAL_ADMIN, Platform
from modelwright.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from modelwright.workflows import Worker, start

Unchanged = Callable[[], AbstractContextManager[None]]


def start_in(
    platform: Platform,
    kind: str,
    workspace: str,
    environment: str,
    *,
    by: str = LOCAL_ADMIN,
    reason: str = "test",
    **inputs: Any,
) -> int:
    with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
        job_id = start(
            ctx.session,
            kind,
            inputs,
            started_by=by,
            workspace=workspace,
            environment=environment,
            reason=reason,
        )
    assert job_id is not None
    return job_id


def test_a_job_shows_its_steps_with_timings_results_and_errors_and_who_started_it_and_why(
    client: Client, connector: Connector, log: Path, unchanged: Unchanged
) -> None:
    client.create_workspace("ml")
    platform = connector.platform
    ok = start_in(platform, "test.steps", "ml", "dev", reason="nightly", log=str(log), n=2)
    bad = start_in(platform, "test.flaky", "ml", "dev", log=str(log), failures=9, retries=0)
    assert Worker(platform).run_once() == 2

    job = client.get_job(ok)
    assert (job.kind, job.status, job.started_by, job.reason) == (
        "test.steps",
        "succeeded",
        "admin",
        "nightly",
    )
    assert (job.workspace, job.environment, job.action, job.result) == (
        "ml",
        "dev",
        "pipeline.run",
        [10, 20],
    )
    assert [(s.seq, s.name, s.status, s.result) for s in job.steps] == [
        (1, "effect 1", "succeeded", 10),
        (2, "effect 2", "succeeded", 20),
    ]
    assert all(s.seconds is not None and s.seconds >= 0 for s in job.steps)

    failed = client.get_job(bad)
    assert failed.status == "failed" and "failure 1" in (failed.error or "")
    assert [(s.status, s.error) for s in failed.steps] == [("failed", "RuntimeError: failure 1")]

    assert [j.id for j in client.list_jobs()] == [bad, ok]
    assert [j.id for j in client.list_jobs(status="failed")] == [bad]
    assert [j.id for j in client.list_jobs(kind="test.steps", workspace="ml")] == [ok]
    assert client.list_jobs(workspace="ml", environment="prod") == []
    with unchanged(), pytest.raises(InvalidInput, match="status"):
        client.list_jobs(status="exploded")  # type: ignore[arg-type]
    with unchanged(), pytest.raises(NotFound, match="job 999 not found"):
        client.get_job(999)


def test_cancel_and_retry_need_the_action_the_kind_declares_and_are_audited(
    client: Client, connector: Connector, unchanged: Unchanged
) -> None:
    client.create_workspace("ml")
    client.create_principal("dana")
    client.grant("dana", "data-scientist", "ml")  # pipeline.run, no endpoint.deploy
    dana = connector.as_principal("dana")
    platform = connector.platform
    plain = start_in(platform, "test.noop", "ml", "dev")
    guarded = start_in(platform, "test.guarded", "ml", "dev")
    assert dana.get_job(guarded).action == "endpoint.deploy"

    with unchanged(), pytest.raises(PermissionDenied, match=r"may not endpoint\.deploy"):
        dana.cancel_job(guarded)
    cancelled = dana.cancel_job(plain)
    assert cancelled.status == "cancelled" and cancelled.cancel_requested
    with unchanged(), pytest.raises(Conflict, match=f"job {plain} is cancelled already"):
        dana.cancel_job(plain)
    with unchanged(), pytest.raises(Conflict, match="only a failed or cancelled job"):
        client.retry_job(guarded)
    retried = dana.retry_job(plain)
    assert retried.status == "queued" and not retried.cancel_requested
    assert client.cancel_job(guarded).status == "cancelled"

    trail = [
        (e.principal, e.action, e.target, e.before, e.after)
        for e in reversed(client.audit_events(action="job.*"))
    ]
    assert trail == [
        (
            "dana",
            "job.cancel",
            f"job:{plain}",
            {"status": "queued", "cancel_requested": False},
            {"status": "cancelled", "cancel_requested": True},
        ),
        (
            "dana",
            "job.retry",
            f"job:{plain}",
            {"status": "cancelled", "cancel_requested": True},
            {"status": "queued", "cancel_requested": False},
        ),
        (
            "admin",
            "job.cancel",
            f"job:{guarded}",
            {"status": "queued", "cancel_requested": False},
            {"status": "cancelled", "cancel_requested": True},
        ),
    ]
    changes = [
        (e.principal, e.data["job"], e.data["status"])
        for e in client.events(kind="job.state_changed", since=0)
    ]
    assert changes[-3:] == [
        ("dana", plain, "cancelled"),
        ("dana", plain, "queued"),
        ("admin", guarded, "cancelled"),
    ]


def test_nobody_sees_jobs_or_events_of_environments_they_may_not_read(
    client: Client, connector: Connector, unchanged: Unchanged
) -> None:
    client.create_workspace("ml")
    client.create_workspace("ops")
    client.create_principal("vera")
    client.grant("vera", "data-scientist", "ml", "dev")
    vera = connector.as_principal("vera")
    platform = connector.platform
    dev = start_in(platform, "test.noop", "ml", "dev")
    prod = start_in(platform, "test.noop", "ml", "prod")
    other = start_in(platform, "test.noop", "ops", "dev")
    platform_wide = start_in(platform, "test.noop", "", "")

    assert [j.id for j in vera.list_jobs()] == [dev]
    assert [j.id for j in vera.list_jobs(workspace="ml", environment="dev")] == [dev]
    assert vera.get_job(dev).id == dev
    with unchanged(), pytest.raises(PermissionDenied, match=r"may not data\.read"):
        vera.get_job(prod)
    with unchanged(), pytest.raises(PermissionDenied, match=r"may not data\.read"):
        vera.cancel_job(prod)
    with unchanged(), pytest.raises(PermissionDenied, match=r"may not data\.read"):
        vera.list_jobs(workspace="ml", environment="prod")
    for hidden in (other, platform_wide):
        with unchanged(), pytest.raises(NotFound, match=f"job {hidden} not found"):
            vera.get_job(hidden)
        with unchanged(), pytest.raises(NotFound, match=f"job {hidden} not found"):
            vera.retry_job(hidden)
    with unchanged(), pytest.raises(NotFound, match="workspace 'ops' not found"):
        vera.list_jobs(workspace="ops")
    with unchanged(), pytest.raises(NotFound, match="workspace 'ops' not found"):
        vera.events(workspace="ops")

    seen = {(e.workspace, e.environment) for e in vera.events()}
    assert seen == {("ml", "dev")}
    everything = {(e.workspace, e.environment) for e in client.events()}
    assert everything == {("ml", "dev"), ("ml", "prod"), ("ops", "dev"), ("", "")}
    assert {j.id for j in client.list_jobs()} == {dev, prod, other, platform_wide}


def test_events_are_read_after_an_id_in_id_order_filtered_by_kind_and_place(
    client: Client, connector: Connector
) -> None:
    client.create_workspace("ml")
    platform = connector.platform
    first = client.events()
    jobs = [start_in(platform, "test.noop", "ml", env) for env in ("dev", "prod", "dev")]
    after = first[-1].id if first else 0
    new = client.events(since=after)
    assert [e.data["job"] for e in new] == jobs
    assert [e.id for e in new] == sorted(e.id for e in new)
    assert all(e.kind == "job.state_changed" and e.principal == "admin" for e in new)
    assert [e.id for e in client.events(since=after, limit=2)] == [e.id for e in new[:2]]
    assert [e.id for e in client.events(since=new[1].id)] == [new[2].id]
    assert [e.data["job"] for e in client.events(since=after, environment="prod")] == [jobs[1]]
    assert client.events(since=after, kind="job.*") == new
    assert client.events(since=after, kind="alias.moved") == []
    assert client.events(since=new[-1].id) == []
