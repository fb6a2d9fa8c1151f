"""Executors run node functions: in this process, in local processes, or on Ray.

The interface is one method, ``submit(fn, *args) -> Future``; the session schedules the DAG
(independent nodes are submitted together) and reads results from the futures. ``fn`` and
its arguments must be picklable for executors that leave the process. Built-ins also have
``close()``; the session closes the executors it created itself.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from modelwright.errors import InvalidInput

__all__ = ["Executor", "ProcessExecutor", "RayExecutor", "SequentialExecutor", "make_executor"]


@runtime_checkable
class Executor(Protocol):
    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        """Start ``fn(*args)``; the future holds its result or the exception it raised."""
        ...


class SequentialExecutor:
    """Runs each function at once, in this process (the default)."""

    name = "sequential"

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def close(self) -> None:
        pass


class ProcessExecutor:
    """Independent nodes at once, in local worker processes."""

    name = "process"
    # Its workers are forked (the platform's default start method): the session finishes
    # what it runs in threads with child processes of their own before the first fork.
    forks = True

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or min(4, os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.max_workers)
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _outside_libraries(module_name: str) -> bool:
    """A module of the user's project: not modelwright, not installed, not the stdlib."""
    if module_name.split(".", maxsplit=1)[0] in ("modelwright", "__main__"):
        return False
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if not file:
        return False
    path = str(Path(file).resolve())
    prefixes = {str(Path(p).resolve()) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return not any(path.startswith(p + os.sep) for p in prefixes)


class RayExecutor:
    """Nodes as Ray tasks: a local instance (``num_cpus``), or a cluster by ``address``
    (``ray://host:10001`` or ``auto``). An already initialised Ray is used as it is.

    Project code (modules outside installed packages) travels by value, so the cluster does
    not need the project installed; installed packages must exist on the cluster.
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, num_cpus: int = 2) -> None:
        try:
            import ray
        except ImportError:
            raise InvalidInput(
                "executor ray: Ray is not installed; pip install 'modelwright[ray]'",
                details={"field": "executor"},
            ) from None
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            if address:
                ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
            else:
                ray.init(
                    num_cpus=num_cpus,
                    include_dashboard=False,
                    logging_level=logging.WARNING,
                    log_to_driver=False,
                )
            self._owns = True
        self._remotes: dict[int, Any] = {}
        self._checked: set[str] = set()

    def _ship_by_value(self) -> None:
        from ray import cloudpickle

        for name in [n for n in list(sys.modules) if n not in self._checked]:
            self._checked.add(name)
            if _outside_libraries(name):
                cloudpickle.register_pickle_by_value(sys.modules[name])  # type: ignore[no-untyped-call]

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        self._ship_by_value()
        remote = self._remotes.get(id(fn))
        if remote is None:
            remote = self._remotes[id(fn)] = self._ray.remote(max_retries=0)(fn)
        future: Future[Any] = remote.remote(*args).future()
        return future

    def close(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns = False


def make_executor(
    name: str, *, address: str | None = None, workers: int | None = None
) -> SequentialExecutor | ProcessExecutor | RayExecutor:
    """An executor by its CLI name: ``sequential``, ``process`` or ``ray``."""
    if name == "sequential":
        return SequentialExecutor()
    if name == "process":
        return ProcessExecutor(workers)
    if name == "ray":
        return RayExecutor(address)
    raise InvalidInput(
        f"executor: unknown executor '{name}' (expected sequential, process or ray)",
        details={"field": "executor"},
    )
