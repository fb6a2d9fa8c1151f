"""Domain events reach triggers exactly once; schedules fire each occurrence once."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from tests.workflows.conftest import Workers

from modelwright.core.context import utcnow
from modelwright.core.events import append_event
from modelwright.core.platform import LOCAL_ADMIN, Platform
from modelwright.store import schema
from modelwright.workflows import Worker, create_schedule, create_trigger


def _jobs(platform: Platform, kind: str) -> list[schema.Job]:
    with platform._sessions() as session:
        return list(session.scalars(select(schema.Job).where(schema.Job.kind == kind)))


def test_every_event_starts_its_triggered_workflow_exactly_once_under_concurrent_writers(
    platform: Platform,
) -> None:
    with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
        create_trigger(
            ctx.session,
            "on-prod-alias",
            "alias.moved",
            "test.noop",
            created_by=LOCAL_ADMIN,
            filter={"environment": "prod"},
        )
    writers, per_writer = 4, 40
    stop = threading.Event()

    def write(n: int) -> None:
        for i in range(per_writer):
            with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
                env = "prod" if i % 2 == 0 else "dev"
                append_event(
                    ctx.session, "alias.moved", at=utcnow(), environment=env, subject=f"{n}-{i}"
                )
                append_event(
                    ctx.session, "model_version.registered", at=utcnow(), environment="prod"
                )

    def dispatch() -> None:
        worker = Worker(platform)
        while not stop.is_set():
            worker.dispatch_triggers(batch=7)

    dispatchers = [threading.Thread(target=dispatch) for _ in range(2)]
    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in dispatchers + threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.5)
    stop.set()
    for t in dispatchers:
        t.join()
    Worker(platform).dispatch_triggers()
    jobs = _jobs(platform, "test.noop")
    subjects = sorted(j.inputs["event"]["subject"] for j in jobs)
    expected = sorted(f"{n}-{i}" for n in range(writers) for i in range(0, per_writer, 2))
    assert subjects == expected


def test_a_schedule_after_downtime_fires_its_latest_missed_occurrence_once(
    platform: Platform,
) -> None:
    with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
        create_schedule(ctx.session, "tick", "test.noop", created_by=LOCAL_ADMIN, every_seconds=60)
    with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:  # an hour of downtime
        ctx.session.execute(
            update(schema.Schedule).values(next_at=utcnow() - timedelta(minutes=59, seconds=30))
        )
    first, second = Worker(platform), Worker(platform)
    assert first.fire_schedules() + second.fire_schedules() == 1
    with platform._sessions() as session:
        next_at = session.scalar(select(schema.Schedule.next_at))
    assert next_at is not None and utcnow() < next_at <= utcnow() + timedelta(seconds=60)


def test_a_bad_cron_expression_is_refused(platform: Platform) -> None:
    from modelwright.errors import InvalidInput

    with (
        pytest.raises(InvalidInput, match="bad cron expression"),
        platform.unit(platform.caller(LOCAL_ADMIN)) as ctx,
    ):
        create_schedule(ctx.session, "bad", "test.noop", created_by=LOCAL_ADMIN, cron="61 * * * *")


@pytest.mark.slow
def test_a_one_second_schedule_with_two_workers_fires_thirty_times_in_thirty_seconds(
    platform: Platform, workers: Workers, tmp_path: Path
) -> None:
    with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
        create_schedule(ctx.session, "second", "test.noop", created_by=LOCAL_ADMIN, every_seconds=1)
    workers.spawn()
    workers.spawn()
    time.sleep(30)
    for proc in workers.procs:
        workers.kill(proc)
    with platform._sessions() as session:
        fired = session.scalar(
            select(func.count()).select_from(schema.Job).where(schema.Job.kind == "test.noop")
        )
    assert fired is not None and 29 <= fired <= 31
