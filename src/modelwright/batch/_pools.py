"""Where tasks run: in this process, in local worker processes, or in Ray actors.

Each pool loads the model once per worker (process initializer, actor constructor) and
takes tasks that name files and row groups, never the data itself.
"""

from __future__ import annotations

import functools
import multiprocessing
import threading
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Literal, Protocol

from modelwright.batch._plan import Task
from modelwright.batch._worker import ChunkDone, ChunkRunner, init_process, run_in_process

__all__ = ["ExecutorName", "Pool", "make_pool", "resolve_executor"]

ExecutorName = Literal["auto", "process", "ray", "inline"]
EXECUTORS: tuple[str, ...] = ("auto", "process", "ray", "inline")


def resolve_executor(executor: ExecutorName, workers: int) -> str:
    """``auto``: this process is the first worker (as joblib runs ``n_jobs=1`` in the
    caller): one worker predicts here (``inline``); with more, this process predicts from the
    start while local processes start, import and load the model, and they join as each
    becomes ready (``hybrid``). ``process`` uses worker processes only, so that a model that
    crashes (or is killed for memory) takes a worker down, not the caller."""
    if executor == "auto":
        return "inline" if workers == 1 else "hybrid"
    return executor


class Pool(Protocol):
    workers: int

    def submit(self, task: Task) -> Future[list[ChunkDone]]: ...

    def close(self, *, cancel: bool) -> None: ...


class InlinePool:
    """Every task in this process, one at a time. (Reading the next task and writing the
    last one in threads while predicting was tried: on two cores it gained nothing, Arrow
    and the model's arithmetic already keeping both busy.)"""

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
        # Each no-op is done once its process has loaded the model (the initializer ran).
        self.started = [self._pool.submit(int) for _ in range(workers)]

    def submit(self, task: Task) -> Future[list[ChunkDone]]:
        return self._pool.submit(run_in_process, task)

    def close(self, *, cancel: bool) -> None:
        # After a failure, wait: no straggler may write into the work directory afterwards.
        # After success the workers are idle and exit on their own.
        self._pool.shutdown(wait=cancel, cancel_futures=cancel)


class HybridPool:
    """This process as one worker (a thread: reading, pandas and the model's arithmetic
    release the interpreter lock) and ``workers - 1`` local processes. Tasks wait here and go
    to whichever side is free: this process from the start, each worker process once it has
    loaded the model, so no task waits on a process's seconds of imports. (Those imports still
    take a core: on two cores a 10-million-row job measured slower with two workers than
    with one; see docs/benchmarks.md.)"""

    def __init__(self, model_dir: str, digest: str, workers: int) -> None:
        self.workers = workers
        self._runner = ChunkRunner.load(model_dir, digest)
        self._local = ThreadPoolExecutor(1, thread_name_prefix="modelwright-batch")
        self._processes = ProcessPool(model_dir, digest, workers - 1)
        self._lock = threading.Lock()
        self._waiting: deque[tuple[Task, Future[list[ChunkDone]]]] = deque()
        self._local_busy = False
        self._ready = 0  # worker processes that have loaded the model
        self._remote_busy = 0
        for started in self._processes.started:
            started.add_done_callback(self._process_ready)

    def submit(self, task: Task) -> Future[list[ChunkDone]]:
        future: Future[list[ChunkDone]] = Future()
        with self._lock:
            self._waiting.append((task, future))
        self._dispatch()
        return future

    def _process_ready(self, _: Future[Any]) -> None:
        # A failed start counts too: its tasks then raise the load error (run_in_process).
        with self._lock:
            self._ready += 1
        self._dispatch()

    def _dispatch(self) -> None:
        sent: list[tuple[Future[list[ChunkDone]], Future[list[ChunkDone]], bool]] = []
        with self._lock:
            while self._waiting:
                if not self._local_busy:
                    self._local_busy = True
                    task, outer = self._waiting.popleft()
                    sent.append((self._local.submit(self._runner.run, task), outer, True))
                elif self._remote_busy < self._ready:
                    self._remote_busy += 1
                    task, outer = self._waiting.popleft()
                    sent.append((self._processes.submit(task), outer, False))
                else:
                    break
        # Outside the lock: a task already done calls back at once, in this thread.
        for inner, outer, local in sent:
            inner.add_done_callback(functools.partial(self._done, outer=outer, local=local))

    def _done(
        self, inner: Future[list[ChunkDone]], *, outer: Future[list[ChunkDone]], local: bool
    ) -> None:
        with self._lock:
            if local:
                self._local_busy = False
            else:
                self._remote_busy -= 1
        if outer.set_running_or_notify_cancel():
            exc = inner.exception()
            if exc is None:
                outer.set_result(inner.result())
            else:
                outer.set_exception(exc)
        self._dispatch()

    def close(self, *, cancel: bool) -> None:
        with self._lock:
            waiting, self._waiting = list(self._waiting), deque()
        for _, future in waiting:
            future.cancel()
        self._local.shutdown(wait=True, cancel_futures=cancel)
        self._processes.close(cancel=cancel)


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
    if executor == "hybrid" and workers > 1:
        return HybridPool(model_dir, digest, workers)
    return ProcessPool(model_dir, digest, workers)
