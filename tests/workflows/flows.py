"""Workflows the tests run, in the test process and in worker processes.

Each step notes its start and end in ``runs.log`` under ``log`` (one line per execution,
appended), and its side effect is a file created once (``O_EXCL``): the idempotent effect.
Marker files let a test hold a worker inside a step or between two steps, to kill it there.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from modelwright.workflows import Flow, declare_queue, workflow

declare_queue("test-narrow", concurrency=2)


def note(log: str, what: str) -> None:
    with open(Path(log) / "runs.log", "a") as f:
        f.write(f"{what} {os.getpid()} {time.time():.6f}\n")


def hold_while(log: str, name: str) -> None:
    """Wait while the test keeps the file ``name`` (so it can kill this process here)."""
    hold = Path(log) / name
    if hold.exists():
        (Path(log) / f"{name}.reached").touch()
        while hold.exists():
            time.sleep(0.02)


def effect(log: str, job: int, i: int, seconds: float = 0.0) -> int:
    note(log, f"start {job}:{i}")
    hold_while(log, f"hold-in-{i}")
    time.sleep(seconds)
    try:
        fd = os.open(Path(log) / f"effect-{job}-{i}", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.close(fd)
    except FileExistsError:
        pass
    note(log, f"end {job}:{i}")
    return i * 10


@workflow("test.steps")
def steps(flow: Flow, log: str, n: int = 3, seconds: float = 0.0) -> list[int]:
    out = []
    for i in range(1, n + 1):
        out.append(flow.step(effect, log, flow.job_id, i, seconds, name=f"effect {i}"))
        hold_while(log, f"hold-after-{i}")
    return out


@workflow("test.approval")
def approval(flow: Flow, log: str) -> dict[str, Any]:
    flow.step(effect, log, flow.job_id, 1, name="prepare")
    decision = flow.wait_signal("approve")
    flow.step(effect, log, flow.job_id, 2, name="apply")
    return decision


@workflow("test.flaky")
def flaky(flow: Flow, log: str, failures: int, retries: int) -> str:
    def attempt() -> str:
        note(log, "attempt")
        tries = sum(
            1
            for line in (Path(log) / "runs.log").read_text().splitlines()
            if line.startswith("attempt")
        )
        if tries <= failures:
            raise RuntimeError(f"failure {tries}")
        return "ok"

    return flow.step(attempt, retries=retries, backoff=0.05)


@workflow("test.sleeper")
def sleeper(flow: Flow, seconds: float) -> str:
    flow.sleep(seconds)
    return "awake"


@workflow("test.narrow", queue="test-narrow")
def narrow(flow: Flow, log: str) -> None:
    flow.step(effect, log, flow.job_id, 1, 0.2)


@workflow("test.noop")
def noop(flow: Flow, **inputs: Any) -> None:
    return None


@workflow("test.trivial_steps")
def trivial_steps(flow: Flow, n: int) -> int:
    for i in range(n):
        flow.step(int, i)
    return n


@workflow("test.guarded", action="endpoint.deploy")
def guarded(flow: Flow, **inputs: Any) -> None:
    flow.wait_signal("go")
