"""Worker processes and waits shared by the workflow tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import tests.workflows.flows  # noqa: F401 - registers the test workflows
from sqlalchemy import select

from modelwright.core.platform import LOCAL_ADMIN, Platform
from modelwright.settings import Settings
from modelwright.store import schema

ROOT = Path(__file__).resolve().parents[2]
LEASE = 1.0  # seconds: a killed worker's jobs are taken over this long after its death


def job_status(platform: Platform, job_id: int) -> schema.Job:
    with platform._sessions() as session:
        job = session.get(schema.Job, job_id)
        assert job is not None
        return job


def wait_for(check: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)


def wait_status(
    platform: Platform, job_id: int, *statuses: str, timeout: float = 30.0
) -> schema.Job:
    wait_for(
        lambda: job_status(platform, job_id).status in statuses, timeout, f"job {job_id} {statuses}"
    )
    return job_status(platform, job_id)


def runs(log: Path, prefix: str) -> list[str]:
    path = log / "runs.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return [line for line in lines if line.startswith(prefix)]


def start_job(platform: Platform, kind: str, **inputs: object) -> int:
    from modelwright.workflows import start

    with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
        job_id = start(ctx.session, kind, dict(inputs), started_by=LOCAL_ADMIN, reason="test")
    assert job_id is not None
    return job_id


class Workers:
    """Worker processes on the test's database, killed with SIGKILL at the end if still alive."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.procs: list[subprocess.Popen[bytes]] = []

    def spawn(self, concurrency: int = 1, lease: float = LEASE) -> subprocess.Popen[bytes]:
        env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
        proc = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "tests" / "workflows" / "worker_main.py"),
                self.settings.database_url,
                str(self.settings.home),
                str(lease),
                str(concurrency),
            ],
            env=env,
            cwd=ROOT,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.kill(proc)


@pytest.fixture
def workers(settings: Settings) -> Iterator[Workers]:
    w = Workers(settings)
    yield w
    w.close()


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "log"
    path.mkdir()
    return path


def steps_of(platform: Platform, job_id: int) -> list[schema.JobStep]:
    with platform._sessions() as session:
        return list(
            session.scalars(
                select(schema.JobStep)
                .where(schema.JobStep.job_id == job_id)
                .order_by(schema.JobStep.seq)
            )
        )
