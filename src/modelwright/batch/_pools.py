"""Where tasks run: in this process, in local worker processes, or in Ray actors.

Each pool loads the model once per worker (process initializer, actor constructor) and
takes tasks that name files and row groups, never the data itself.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Literal, Protocol

from modelwright.batch._plan import Task
from modelwright.batch._worker import ChunkDone, ChunkRunner, init_process, run_in_process

__all__ = ["ExecutorName", "Pool", "make_pool", "resolve_executor"]

ExecutorName = Literal["auto", "process", "ray", "inline"]
EXECUTORS: tuple[str, ...] = ("auto", "process", "ray", "inline")


def resolve_executor(executor: ExecutorName, workers: int) -> ExecutorName:
    """``auto``: one worker predicts in this process (as joblib does for ``n_jobs=1``: a
    worker process would only add its start-up, imports and model load while this one
    waits), more predict in local processes. ``process`` always uses processes, so that a
    model that crashes (or is killed for memory) takes a worker down, not the caller."""
    if executor == "auto":
        return "inline" if workers == 1 else "process"
    return executor


class Pool(Protocol):
    workers: int

    def submit(self, task: Task) -> Future[list[ChunkDone]]: ...

    def close(self, *, cancel: bool) -> None: ...


class InlinePool:
    """Every task in this process, one at a time (for debugging and small inputs)."""

    def __init__(self, model_dir: str, digest: str) -> None:
        self.workers = 1
        self._runner = ChunkRunner.load(model_dir, digest)

    def submit(self, task: Task) -> Future[list[ChunkDone]]:
        future: Future[list[ChunkDone]] = Future()
        try:
            future.set_result(self._runner.run(task))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def close(self, *, cancel: bool) -> None:
        pass


class ProcessPool:
    """Local worker processes, started fresh (``spawn``): forking a process that runs
    threads (the run's metric logger, Arrow's thread pools) is not safe."""

    def __init__(self, model_dir: str, digest: str, workers: int) -> None:
        self.workers = workers
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_process,
            initargs=(model_dir, digest),
        )
        # The pool starts a process per task it cannot give to an idle one: a no-op for
        # each worker starts them all now, so they load the model while the driver goes on.
        for _ in range(workers):
            self._pool.submit(int)

    def submit(self, task: Task) -> Future[list[ChunkDone]]:
        return self._pool.submit(run_in_process, task)

    def close(self, *, cancel: bool) -> None:
        # After a failure, wait: no straggler may write into the work directory afterwards.
        # After success the workers are idle and exit on their own.
        self._pool.shutdown(wait=cancel, cancel_futures=cancel)


class _Actor:
    """A Ray actor holding one loaded model."""

    def __init__(self, model_dir: str, digest: str) -> None:
        self._runner = ChunkRunner.load(model_dir, digest)

    def run(self, task: Task) -> list[ChunkDone]:
        return self._runner.run(task)


class RayPool:
    """One actor per worker on a local Ray instance or a cluster (``ray://host:10001``).
    On a cluster, the work directory and the input must be on storage every node reads."""

    def __init__(self, model_dir: str, digest: str, workers: int, address: str | None) -> None:
        from modelwright.runner.executors import RayExecutor

        self.workers = workers
        # Starts Ray (or joins ``address``) unless it is running, and stops what it started.
        self._session = RayExecutor(address, num_cpus=workers)
        import ray

        self._ray = ray
        actor = ray.remote(num_cpus=1, max_restarts=0)(_Actor)
        self._actors: list[Any] = [actor.remote(model_dir, digest) for _ in range(workers)]
        self._busy = [0] * workers  # tasks queued on each actor
        self._lock = threading.Lock()  # done-callbacks run on Ray's threads

    def submit(self, task: Task) -> Future[list[ChunkDone]]:
        with self._lock:
            i = min(range(self.workers), key=self._busy.__getitem__)
            self._busy[i] += 1
        future: Future[list[ChunkDone]] = self._actors[i].run.remote(task).future()

        def free(_: Future[list[ChunkDone]]) -> None:
            with self._lock:
                self._busy[i] -= 1

        future.add_done_callback(free)
        return future

    def close(self, *, cancel: bool) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
        self._session.close()


def make_pool(
    executor: str, *, model_dir: str, digest: str, workers: int, address: str | None
) -> Pool:
    if executor == "inline":
        return InlinePool(model_dir, digest)
    if executor == "ray":
        return RayPool(model_dir, digest, workers, address)
    return ProcessPool(model_dir, digest, workers)
