"""Scheduling a pipeline's DAG, as Kedro's ``runner/runner.py`` does: which node may start,
when, and what a failure stops.

A node starts once every upstream node is done, so independent nodes run together on an
executor that runs more than one at a time. A failed node's dependants are skipped; nodes
that do not depend on it still run, and the first node that failed is the run's failure.
Running one node (its cache, its call, its outputs) is the tasks' business (``task``).
"""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any, Protocol

from modelwright.pipelines.node import Node
from modelwright.pipelines.pipeline import Pipeline
from modelwright.runner.result import Reports

__all__ = ["Tasks", "schedule"]


class Tasks(Protocol):
    """Running one node, for the scheduler (``task.NodeTasks``)."""

    def start(self, node: Node) -> Future[Any] | None:
        """Start ``node``: its future, or None when it is done already (from the cache)."""
        ...

    def finish(self, node: Node, future: Future[Any]) -> bool:
        """Finish ``node``, whose future is done: False when it failed."""
        ...


def schedule(pipeline: Pipeline, tasks: Tasks, reports: Reports) -> str | None:
    """Run every node of ``pipeline`` in dependency order; the first node that failed, or None."""
    done: set[str] = set()
    running: dict[Future[Any], Node] = {}
    failed: str | None = None
    blocked: set[str] = set()
    pending = list(pipeline.nodes)
    while pending or running:
        progressed = False
        for n in list(pending):
            deps = pipeline.dependencies[n.name]
            if deps & blocked:
                pending.remove(n)
                blocked.add(n.name)
                first = sorted(deps & blocked)[0]
                reports.update(n.name, "skipped", f"upstream node '{first}' failed")
                progressed = True
                continue
            if not deps <= done:
                continue
            pending.remove(n)
            progressed = True
            future = tasks.start(n)
            if future is None:
                done.add(n.name)
            else:
                running[future] = n
        if not running:
            if not progressed and pending:  # cannot happen for a valid DAG
                raise RuntimeError(f"pipeline stalled with {[n.name for n in pending]}")
            continue
        finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
        for future in finished:
            n = running.pop(future)
            if tasks.finish(n, future):
                done.add(n.name)
            else:
                failed = failed or n.name
                blocked.add(n.name)
    return failed
