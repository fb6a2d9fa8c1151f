"""Workflow kinds and queues, declared in code and found by name when a job runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modelwright.errors import AlreadyExists, InvalidInput

__all__ = [
    "WorkflowDef",
    "declare_queue",
    "get_workflow",
    "queue_limit",
    "workflow",
    "workflow_kinds",
]

WorkflowFn = Callable[..., Any]


@dataclass(frozen=True)
class WorkflowDef:
    kind: str
    fn: WorkflowFn
    queue: str


_WORKFLOWS: dict[str, WorkflowDef] = {}
_QUEUES: dict[str, int] = {}


def workflow(kind: str, *, queue: str = "default") -> Callable[[WorkflowFn], WorkflowFn]:
    """Register ``fn(flow, **inputs)`` as the workflow ``kind``.

    The function is replayed from the top whenever its job resumes: everything it does
    besides pure computation goes through ``flow.step`` (whose recorded results are
    returned instead of running again), ``flow.sleep`` or ``flow.wait_signal``.
    """

    def register(fn: WorkflowFn) -> WorkflowFn:
        known = _WORKFLOWS.get(kind)
        if known is not None and known.fn.__qualname__ != fn.__qualname__:
            raise AlreadyExists(f"workflow kind '{kind}' is registered already ({known.fn})")
        _WORKFLOWS[kind] = WorkflowDef(kind, fn, queue)
        return fn

    return register


def declare_queue(name: str, *, concurrency: int) -> None:
    """At most ``concurrency`` jobs of the queue run at once, across every worker."""
    if concurrency < 1:
        raise InvalidInput(f"queue '{name}': concurrency must be at least 1, got {concurrency}")
    _QUEUES[name] = concurrency


def queue_limit(name: str) -> int | None:
    return _QUEUES.get(name)


def get_workflow(kind: str) -> WorkflowDef | None:
    return _WORKFLOWS.get(kind)


def workflow_kinds() -> list[str]:
    return sorted(_WORKFLOWS)
