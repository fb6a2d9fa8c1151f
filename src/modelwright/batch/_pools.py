"""Where tasks run: in this process, in local worker processes, or in Ray actors.

Each pool loads the model once per worker (in this process before forking, a process
initializer, an actor constructor) and takes tasks that name files and row groups, never
the data itself. The cores are shared out: a worker among N on C cores keeps C // N of them
busy (Arrow's reads, the model's BLAS and OpenMP threads), so N workers never start N × C
threads that take turns on C cores.
"""

from __future__ import annotations

import functools
import multiprocessing
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Literal, Protocol

from modelwright.batch._plan import Task
from modelwright.batch._worker import (
    ChunkDone,
    ChunkRunner,
    adopt_runner,
    init_process,
    run_in_process,
)
from modelwright.core.machine import usable_cores

__all__ = ["ExecutorName", "Pool", "make_pool", "resolve_executor"]

ExecutorName = Literal["auto", "process", "ray", "inline"]
EXECUTORS: tuple[str, ...] = ("auto", "process", "ray", "inline")


def resolve_executor(executor: ExecutorName, workers: int) -> str:
    """``auto``: one worker predicts in this process (``inline``, as joblib runs
    ``n_jobs=1`` in the caller); with a worker per core (the default), this process is one
    of them and the others are processes forked from it once it has loaded the model
    (``hybrid``), where the platform forks safely (Linux); else all are spawned
    (``process``), so that each can keep several cores busy.
    ``process`` always spawns fresh interpreters: slower to start (each imports pandas,
    pyarrow and the model's library), but nothing of this process is inherited."""
    if executor != "auto":
        return executor
    if workers == 1:
        return "inline"
    # Forked workers get one OpenMP thread at most (GNU OpenMP's pool does not survive a
    # fork): fork only where one core is each worker's share anyway.
    return "hybrid" if _can_fork() and usable_cores() // workers <= 1 else "process"


def _can_fork() -> bool:
    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


class Pool(Protocol):
    workers: int

    def submit(self, task: Task) -> Future[list[ChunkDone]]: ...

    def close(self, *, cancel: bool) -> None: ...


class InlinePool:
    """Every task in this process. With a core to spare, a chunk's output is written by a
    thread while the next chunk is read and predicted (Arrow writes without the
    interpreter lock), and the model's native thread pools (BLAS, OpenMP) keep one core
    fewer busy than there are: measured on two cores, a StandardScaler +
    LogisticRegression predicted 10 million rows in 2.6–3.0 s with one BLAS thread
    against 3.1–3.2 s with two, the second one spinning (3.4 CPU-seconds against 5.9)."""

    def __init__(self, runner: ChunkRunner) -> None:
        from threadpoolctl import threadpool_limits

        self.workers = 1
        self._runner = runner
        self._writer: ThreadPoolExecutor | None = None
        self._limits: Any = None
        if runner.threads > 1:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="modelwright-batch-write")
            self._limits = threadpool_limits(runner.threads - 1)

    def submit(self, task: Task) -> Future[list[ChunkDone]]:
        future: Future[list[ChunkDone]] = Future()
        try:
            predicted = self._runner.predict(task)
            if self._writer is not None:
                return self._writer.submit(self._runner.write, task, predicted)
            future.set_result(self._runner.write(task, predicted))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def close(self, *, cancel: bool) -> None:
        # Writes already handed over finish either way, even when the job stops on an error or
        # an interruption: their predictions are done, so every chunk predicted before the
        # stop is on disk for the next attempt (the contract the resume relies on), and
        # nothing writes into the work directory once the job has returned.
        if self._writer is not None:
            self._writer.shutdown(wait=True, cancel_futures=False)
        if self._limits is not None:
            self._limits.restore_original_limits()
            self._limits = None


class ProcessPool:
    """Local worker processes. Spawned (fresh interpreters that load the model themselves)
    or, given a loaded ``runner``, forked from this process: they then start in
    milliseconds with the model in memory they share with this one until written to, where
    a spawned one spends seconds importing pandas, pyarrow and scikit-learn, longer than
    many a job takes."""

    def __init__(
        self,
        workers: int,
        threads: int,
        *,
        model_dir: str = "",
        digest: str = "",
        runner: ChunkRunner | None = None,
    ) -> None:
        self.workers = workers
        if runner is None:
            # Spawned: nothing of this process is inherited, the locks its threads may hold
            # included. Forked (below): before the run starts any thread, and the workers
            # only read Parquet, predict and write files.
            context = "spawn"
            initializer: Callable[..., None] = init_process
            args: tuple[Any, ...] = (model_dir, digest, threads)
        else:
            context, initializer, args = "fork", adopt_runner, (runner, threads)
        self._pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(context),
            initializer=initializer,
            initargs=args,
        )
        # The pool starts a process per task it cannot give to an idle one: a no-op for
        # each worker starts them all now (forked before anything else starts a thread;
        # spawned ones load the model while the driver goes on).
        self.started = [self._pool.submit(int) for _ in range(workers)]

    def submit(self, task: Task) -> Future[list[ChunkDone]]:
        return self._pool.submit(run_in_process, task)

    def close(self, *, cancel: bool) -> None:
        # After a failure, wait: no straggler may write into the work directory afterwards.
        # After success the workers are idle and exit on their own.
        self._pool.shutdown(wait=cancel, cancel_futures=cancel)


class HybridPool:
    """This process as one worker (a thread: reading, pandas and the model's arithmetic
    release the interpreter lock) and ``workers - 1`` processes forked from it once it has
    loaded the model. A forked process starts at once but with cold memory: each page it
    writes is faulted in, which made its first task ten times slower than the next ones
    (0.4 s against 0.04 s for 100,000 rows here); this process's memory is warm. Tasks wait
    here and go to whichever side is free."""

    def __init__(self, runner: ChunkRunner, workers: int) -> None:
        from threadpoolctl import threadpool_limits

        self.workers = workers
        self._runner = runner
        # Forked before this process starts a thread of its own.
        self._processes = ProcessPool(workers - 1, runner.threads, runner=runner)
        try:
            # This process's share: BLAS's limit holds for the process, OpenMP's for the
            # thread that sets it, so the predicting thread sets its own.
            self._limits: Any = threadpool_limits(runner.threads)
            self._local = ThreadPoolExecutor(
                1,
                thread_name_prefix="modelwright-batch",
                initializer=threadpool_limits,
                initargs=(runner.threads, "openmp"),
            )
        except BaseException:
            self._processes.close(cancel=True)
            raise
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
                    sent.append((self._submit_remote(task), outer, False))
                else:
                    break
        # Outside the lock: a task already done calls back at once, in this thread.
        for inner, outer, local in sent:
            inner.add_done_callback(functools.partial(self._done, outer=outer, local=local))

    def _submit_remote(self, task: Task) -> Future[list[ChunkDone]]:
        # A broken pool (a worker died) refuses new tasks: the task fails with that error
        # rather than staying unanswered.
        try:
            return self._processes.submit(task)
        except Exception as exc:
            failed: Future[list[ChunkDone]] = Future()
            failed.set_exception(exc)
            return failed

    def _done(
        self, inner: Future[list[ChunkDone]], *, outer: Future[list[ChunkDone]], local: bool
    ) -> None:
        with self._lock:
            if local:
                self._local_busy = False
            else:
                self._remote_busy -= 1
        if inner.cancelled():
            outer.cancel()
        elif outer.set_running_or_notify_cancel():
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
        if self._limits is not None:
            self._limits.restore_original_limits()
            self._limits = None


class _Actor:
    """A Ray actor holding one loaded model."""

    def __init__(self, model_dir: str, digest: str, threads: int) -> None:
        self._runner = ChunkRunner.load(model_dir, digest, threads)

    def run(self, task: Task) -> list[ChunkDone]:
        return self._runner.run(task)


class RayPool:
    """One actor per worker on a local Ray instance or a cluster (``ray://host:10001``).
    On a cluster, the work directory and the input must be on storage every node reads."""

    def __init__(
        self, model_dir: str, digest: str, workers: int, threads: int, address: str | None
    ) -> None:
        from modelwright.runner.executors import RayExecutor

        self.workers = workers
        # Starts Ray (or joins ``address``) unless it is running, and stops what it started.
        self._session = RayExecutor(address, num_cpus=workers)
        import ray

        self._ray = ray
        actor = ray.remote(num_cpus=1, max_restarts=0)(_Actor)
        self._actors: list[Any] = [actor.remote(model_dir, digest, threads) for _ in range(workers)]
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
    threads = max(1, usable_cores() // workers)
    if executor == "inline":
        return InlinePool(ChunkRunner.load(model_dir, digest, threads))
    if executor == "ray":
        return RayPool(model_dir, digest, workers, 1, address)
    if executor == "hybrid":
        return HybridPool(ChunkRunner.load(model_dir, digest, threads), workers)
    return ProcessPool(workers, threads, model_dir=model_dir, digest=digest)
