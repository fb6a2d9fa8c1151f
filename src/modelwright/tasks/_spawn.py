"""Running one submitted task in a child process of the worker, and reading back its answer."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from modelwright.workflows import CancelRequested, Flow

__all__ = ["TaskFailed", "in_unit", "run_in_child"]

T = TypeVar("T")

# How often the worker looks at the child and at whether the job was cancelled.
_POLL_SECONDS = 0.5
_STDERR_TAIL = 4000


class TaskFailed(Exception):
    """The task's own error (a failed node, a bad model URI), as the child reported it."""


def in_unit(flow: Flow, fn: Callable[..., T], *args: Any) -> T:
    """``fn(ctx, *args)`` in one transaction as the principal who started the job."""
    with flow.unit() as ctx:
        return fn(ctx, *args)


def run_in_child(flow: Flow, kind: str, inputs: dict[str, Any]) -> Any:
    settings = flow.platform.settings
    payload = {
        # The child opens the same platform the worker did, whatever its working directory.
        "settings": {**settings.model_dump(mode="json"), "home": str(settings.home.resolve())},
        "principal": flow.started_by,
        "workspace": flow.workspace,
        "environment": flow.environment,
        "job": flow.job_id,
        "kind": kind,
        "inputs": inputs,
    }
    with tempfile.TemporaryDirectory(prefix=f"modelwright-job-{flow.job_id}-") as tmp:
        work = Path(tmp)
        payload["work_dir"] = str(work)
        (work / "task.json").write_text(json.dumps(payload))
        with (work / "stderr.log").open("wb") as stderr:
            child = subprocess.Popen(  # noqa: S603 (our own module, no shell)
                [sys.executable, "-m", "modelwright.tasks._child", str(work / "task.json")],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # a cancellation stops the child's own workers too
            )
            _wait(flow, child)
        return _answer(work, child.returncode)


def _wait(flow: Flow, child: subprocess.Popen[bytes]) -> None:
    try:
        while child.poll() is None:
            time.sleep(_POLL_SECONDS)
            if child.poll() is None and flow.cancel_requested():
                _stop(child)
                raise CancelRequested
    except BaseException:
        _stop(child)
        raise


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    try:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    except ProcessLookupError:
        pass


def _answer(work: Path, returncode: int) -> Any:
    result = work / "result.json"
    if not result.is_file():
        tail = (work / "stderr.log").read_bytes()[-_STDERR_TAIL:].decode(errors="replace")
        raise TaskFailed(f"the task's process ended with code {returncode} and no answer: {tail}")
    answer = json.loads(result.read_text())
    if "error" in answer:
        raise TaskFailed(answer["error"])
    return answer["value"]
