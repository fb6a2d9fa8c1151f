"""Workflow kinds and queues, declared in code and found by name when a job runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from modelwright.core.actions import Action
from modelwright.errors import AlreadyExists, InvalidInput

__all__ = [
    "WorkflowDef",
    "declare_queue",
    "get_workflow",
    "load_workflows",
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
    # Needed in the job's environment to cancel or retry it (recorded on the job at start).
    action: Action = Action.PIPELINE_RUN


_WORKFLOWS: dict[str, WorkflowDef] = {}
_QUEUES: dict[str, int] = {}


def workflow(
    kind: str, *, queue: str = "default", action: Action | str = Action.PIPELINE_RUN
) -> Callable[[WorkflowFn], WorkflowFn]:
    """Register ``fn(flow, **inputs)`` as the workflow ``kind``.

    ``action`` is what a principal needs in the job's environment to cancel or retry it.

    The function is replayed from the top whenever its job resumes: everything it does
    besides pure computation goes through ``flow.step`` (whose recorded results are
    returned instead of running again), ``flow.sleep`` or ``flow.wait_signal``.
    """
    try:
        needed = Action(action)
    except ValueError:
        actions = ", ".join(a.value for a in Action)
        raise InvalidInput(
            f"workflow '{kind}': action '{action}' is not an action (actions: {actions})"
        ) from None

    def register(fn: WorkflowFn) -> WorkflowFn:
        known = _WORKFLOWS.get(kind)
        if known is not None and known.fn.__qualname__ != fn.__qualname__:
            raise AlreadyExists(f"workflow kind '{kind}' is registered already ({known.fn})")
        _WORKFLOWS[kind] = WorkflowDef(kind, fn, queue, needed)
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


ENTRY_POINT_GROUP = "modelwright.workflows"
# The work any caller may submit (pipeline runs, batch jobs, leaderboards): every worker knows it.
BUILTIN = "modelwright.tasks"


def load_workflows(modules: Sequence[str] = ()) -> list[str]:
    """Import the modules that declare workflows: every entry point of the group
    ``modelwright.workflows`` (how an installed package offers its workflows), then
    ``modules`` by name. Returns the names imported."""
    from importlib import import_module
    from importlib.metadata import entry_points

    import_module(BUILTIN)
    loaded = [BUILTIN]
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:
            raise InvalidInput(
                f"workflows of entry point '{ep.name}' ({ep.value}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        loaded.append(ep.value)
    for name in modules:
        try:
            import_module(name)
        except Exception as exc:
            raise InvalidInput(
                f"--import: module '{name}' failed to import: {type(exc).__name__}: {exc}",
                details={"module": name},
            ) from exc
        loaded.append(name)
    return loaded
