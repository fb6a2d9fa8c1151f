"""Executors run node functions: in this process, in local processes, on Ray, or as a
package adds.

The interface is one method, ``submit(fn, *args) -> Future``; the scheduler submits
independent nodes together and reads results from the futures. ``fn`` and its arguments
must be picklable for executors that leave the process. An executor may have ``close()``;
the session closes the executors it made itself.

Executors are made by name (``make_executor``, ``--executor``) from the registered
``ExecutorPlugin``s: the built-ins, those registered in process (``register_executor``) and
those packages offer under the entry point group ``modelwright.executors``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from modelwright.errors import InvalidInput
from modelwright.plugins import PluginRegistry

__all__ = [
    "ENTRY_POINT_GROUP",
    "REGISTRY",
    "Executor",
    "ExecutorFactory",
    "ExecutorPlugin",
    "ProcessExecutor",
    "RayExecutor",
    "SequentialExecutor",
    "executor_names",
    "make_executor",
    "register_executor",
]


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


@runtime_checkable
class ExecutorFactory(Protocol):
    """Makes executors of one kind, by its name: what the registry holds. ``address`` is a
    cluster's (``--ray-address``), ``workers`` how many nodes may run at once; a kind
    ignores what it has no use for."""

    @property
    def name(self) -> str: ...

    def create(self, *, address: str | None = None, workers: int | None = None) -> Executor: ...


@dataclass(frozen=True)
class ExecutorPlugin:
    """An executor kind from a function: ``ExecutorPlugin("dask", lambda address, workers:
    DaskExecutor(address))``. A package offers one under the entry point group
    ``modelwright.executors`` (``dask = "my_package:dask"``)."""

    name: str
    make: Callable[[str | None, int | None], Executor]

    def create(self, *, address: str | None = None, workers: int | None = None) -> Executor:
        return self.make(address, workers)


ENTRY_POINT_GROUP = "modelwright.executors"

# Executors are not shared between runs (each owns its pool): the registry holds factories.
REGISTRY: PluginRegistry[ExecutorFactory] = PluginRegistry(
    ExecutorFactory, ENTRY_POINT_GROUP, kind="executor", article="an"
)
for _builtin in (
    ExecutorPlugin("sequential", lambda address, workers: SequentialExecutor()),
    ExecutorPlugin("process", lambda address, workers: ProcessExecutor(workers)),
    ExecutorPlugin("ray", lambda address, workers: RayExecutor(address)),
):
    REGISTRY.register(_builtin)


def register_executor(factory: ExecutorFactory, *, replace: bool = False) -> ExecutorFactory:
    """Make ``factory`` usable by its name (``--executor NAME``); a taken name is an error
    unless ``replace``."""
    return REGISTRY.register(factory, replace=replace)


def executor_names() -> list[str]:
    """The built-ins first, then the others in the order they were registered."""
    REGISTRY.load_entry_points()
    return list(REGISTRY.items)


def make_executor(name: str, *, address: str | None = None, workers: int | None = None) -> Executor:
    """An executor by its name: ``sequential``, ``process``, ``ray`` or one registered."""
    factory = REGISTRY.get(name)
    if factory is None:
        *others, last = executor_names()
        raise InvalidInput(
            f"executor: unknown executor '{name}' (expected {', '.join(others)} or {last})",
            details={"field": "executor"},
        )
    return factory.create(address=address, workers=workers)
