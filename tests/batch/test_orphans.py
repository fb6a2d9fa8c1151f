"""A batch job killed with SIGKILL leaves no worker process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.batch._models import Slow
from tests.batch.conftest import customers, setup_world

import modelwright

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def _children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("executor", ["auto", "process"])
def test_workers_exit_when_their_job_is_killed(tmp_path: Path, executor: str) -> None:
    frame = customers(400)
    home = tmp_path / "home"
    env = {**os.environ, "MODELWRIGHT_HOME": str(home)}
    with modelwright.connect(home) as client:
        setup_world(client, tmp_path / "lake", frame, Slow())
    args = ["batch", "run", "models:/churn@champion", "--input", "customers@v1"]
    args += ["--output", "scores", "-w", "ml", "--chunk-rows", "20", "--workers", "2"]
    log = (tmp_path / "job.log").open("w")
    job = subprocess.Popen(
        [sys.executable, "-m", "modelwright", *args, "--executor", executor],
        env={**env, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while time.monotonic() < deadline and job.poll() is None:
            if _children(job.pid):
                time.sleep(1.5)  # the workers are predicting now
                workers = _children(job.pid)
                break
            time.sleep(0.1)
        assert workers, f"no worker started: {(tmp_path / 'job.log').read_text()}"
        os.kill(job.pid, signal.SIGKILL)
        job.wait(10)
        deadline = time.monotonic() + 45  # generous: a loaded machine delays the orphans
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        left = [p for p in workers if _alive(p)]
        assert not left, f"workers outlived their killed job: {left}"
    finally:
        log.close()
        if job.poll() is None:
            job.kill()
            job.wait(10)
        for pid in _children(job.pid):
            os.kill(pid, signal.SIGKILL)
