"""Workflows survive SIGKILL, run each step in one place, wait durably and stop when cancelled."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.workflows.conftest import (
    Workers,
    runs,
    start_job,
    steps_of,
    wait_for,
    wait_status,
)

from modelwright.core.platform import LOCAL_ADMIN, Platform
from modelwright.workflows import Worker, cancel, signal


def test_a_worker_killed_between_steps_is_resumed_and_no_finished_step_runs_again(
    platform: Platform, workers: Workers, log: Path
) -> None:
    (log / "hold-after-2").touch()
    job = start_job(platform, "test.steps", log=str(log))
    first = workers.spawn()
    wait_for((log / "hold-after-2.reached").exists, what="the pause after step 2")
    workers.kill(first)
    (log / "hold-after-2").unlink()
    workers.spawn()
    done = wait_status(platform, job, "succeeded", "failed")
    assert done.status == "succeeded", done.error
    assert done.result == {"value": [10, 20, 30]}
    for i in (1, 2, 3):
        assert len(runs(log, f"start {job}:{i} ")) == 1
        assert (log / f"effect-{job}-{i}").exists()


def test_a_worker_killed_inside_a_step_is_resumed_and_the_idempotent_effect_happens_once(
    platform: Platform, workers: Workers, log: Path
) -> None:
    (log / "hold-in-2").touch()
    job = start_job(platform, "test.steps", log=str(log))
    first = workers.spawn()
    wait_for((log / "hold-in-2.reached").exists, what="step 2 to start")
    workers.kill(first)
    (log / "hold-in-2").unlink()
    workers.spawn()
    done = wait_status(platform, job, "succeeded", "failed")
    assert done.status == "succeeded", done.error
    # Step 1 had finished: never again. Step 2 had not: run again, its effect made once.
    assert len(runs(log, f"start {job}:1 ")) == 1
    assert len(runs(log, f"start {job}:2 ")) == 2
    assert len(runs(log, f"end {job}:2 ")) == 1
    assert len(runs(log, f"start {job}:3 ")) == 1
    assert sorted(p.name for p in log.glob(f"effect-{job}-*")) == [
        f"effect-{job}-{i}" for i in (1, 2, 3)
    ]


@pytest.mark.parametrize("db", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_two_workers_never_run_the_same_step_twice_or_at_once(
    platform: Platform, workers: Workers, log: Path
) -> None:
    jobs = [start_job(platform, "test.steps", log=str(log), seconds=0.01) for _ in range(60)]
    # Healthy workers: a lease long enough that a loaded machine's stall of a second does not
    # hand a live worker's job over (a takeover replays the step, which is right, but is not
    # what this test is about).
    workers.spawn(concurrency=2, lease=15.0)
    workers.spawn(concurrency=2, lease=15.0)
    for job in jobs:
        assert wait_status(platform, job, "succeeded", "failed", timeout=60).status == "succeeded"
    starts = runs(log, "start ")
    assert len(starts) == 3 * len(jobs)
    assert len({line.split()[1] for line in starts}) == 3 * len(jobs)
    # Both worker processes took part.
    assert len({line.split()[2] for line in starts}) == 2


def test_a_workflow_waiting_for_a_signal_survives_every_process_and_continues_when_signalled(
    platform: Platform, workers: Workers, log: Path
) -> None:
    job = start_job(platform, "test.approval", log=str(log))
    first = workers.spawn()
    wait_status(platform, job, "waiting")
    workers.kill(first)
    platform.close()
    again = Platform(platform.settings)
    try:
        workers.spawn()
        with again.unit(again.caller(LOCAL_ADMIN)) as ctx:
            signal(ctx.session, job, "approve", {"ok": True}, sent_by=LOCAL_ADMIN)
        done = wait_status(again, job, "succeeded", "failed")
        assert done.status == "succeeded", done.error
        assert done.result == {"value": {"ok": True, "sent_by": LOCAL_ADMIN}}
        assert len(runs(log, f"start {job}:1 ")) == 1
        assert len(runs(log, f"start {job}:2 ")) == 1
    finally:
        again.close()


def test_cancellation_stops_a_running_workflow_at_its_next_step(
    platform: Platform, log: Path
) -> None:
    (log / "hold-in-2").touch()
    job = start_job(platform, "test.steps", log=str(log), n=5)
    worker = Worker(platform, lease_seconds=5, poll_seconds=0.02)
    worker.start()
    try:
        wait_for((log / "hold-in-2.reached").exists)
        with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
            cancel(ctx.session, job, by=LOCAL_ADMIN)
        (log / "hold-in-2").unlink()
        assert wait_status(platform, job, "cancelled", "succeeded").status == "cancelled"
    finally:
        worker.stop()
    assert [s.name for s in steps_of(platform, job)] == ["effect 1", "effect 2"]
    assert runs(log, f"start {job}:3 ") == []


def test_a_failing_step_is_retried_with_backoff_up_to_its_limit(
    platform: Platform, log: Path
) -> None:
    healed = start_job(platform, "test.flaky", log=str(log), failures=2, retries=3)
    worker = Worker(platform, poll_seconds=0.01)
    wait_for(lambda: worker.run_once() == 0 and _finished(platform, healed))
    assert len(runs(log, "attempt")) == 3
    (log / "runs.log").unlink()
    broken = start_job(platform, "test.flaky", log=str(log), failures=5, retries=2)
    wait_for(lambda: worker.run_once() == 0 and _finished(platform, broken))
    from tests.workflows.conftest import job_status

    assert job_status(platform, healed).status == "succeeded"
    failed = job_status(platform, broken)
    assert failed.status == "failed"
    assert "after 3 attempt(s): RuntimeError: failure 3" in (failed.error or "")


def test_a_durable_sleep_holds_no_worker_and_ends_on_time(platform: Platform) -> None:
    job = start_job(platform, "test.sleeper", seconds=0.5)
    worker = Worker(platform)
    worker.run_once()
    from tests.workflows.conftest import job_status

    assert job_status(platform, job).status == "waiting"
    wait_for(lambda: worker.run_once() == 0 and _finished(platform, job), timeout=5)
    assert job_status(platform, job).result == {"value": "awake"}


def test_a_queue_bounds_how_many_of_its_jobs_run_at_once(platform: Platform, log: Path) -> None:
    jobs = [start_job(platform, "test.narrow", log=str(log)) for _ in range(6)]
    worker = Worker(platform, concurrency=4, poll_seconds=0.01)
    worker.start()
    try:
        for job in jobs:
            wait_status(platform, job, "succeeded")
    finally:
        worker.stop()
    events = sorted(
        (float(line.split()[3]), +1 if line.startswith("start") else -1)
        for line in runs(log, "start ") + runs(log, "end ")
    )
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert peak == 2


def _finished(platform: Platform, job: int) -> bool:
    from tests.workflows.conftest import job_status

    return job_status(platform, job).status in ("succeeded", "failed", "cancelled")
