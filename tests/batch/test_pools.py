"""Workers share the cores out: a forked worker keeps to its share, and this process's
thread limits are what they were once a pool is closed."""

from __future__ import annotations

import os
import sys
from typing import Any, cast

import numpy  # noqa: F401 -- loads OpenBLAS, whose threads these tests count
import pyarrow as pa
import pytest
import sklearn.utils._openmp_helpers  # noqa: F401 -- loads OpenMP, likewise
from threadpoolctl import threadpool_info

from modelwright.batch import _pools
from modelwright.batch._pools import HybridPool, InlinePool, ProcessPool, resolve_executor
from modelwright.batch._worker import ChunkRunner
from modelwright.registry.predict import LoadedModel

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux")


def _blas_threads() -> list[int]:
    return _threads("blas")


def _threads(api: str) -> list[int]:
    # OpenMP's is the calling thread's own; BLAS's is the process's.
    return [int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == api]


def _probe() -> tuple[int, int, list[int]]:
    return os.getpid(), pa.cpu_count(), _blas_threads()


def _runner(threads: int) -> ChunkRunner:
    # The pools only hand the runner over; these tests never predict.
    return ChunkRunner(cast(LoadedModel, None), threads)


def test_forked_workers_keep_to_one_core_each_and_start_at_once() -> None:
    pool = ProcessPool(2, 1, runner=_runner(1))
    try:
        for started in pool.started:
            started.result(timeout=10)  # forked: no imports, no model to load again
        seen: dict[int, Any] = {}
        for _ in range(20):
            pid, cpus, blas = pool._pool.submit(_probe).result(timeout=10)
            seen[pid] = (cpus, blas)
    finally:
        pool.close(cancel=True)
    assert os.getpid() not in seen
    for cpus, blas in seen.values():
        assert cpus == 1
        assert all(n == 1 for n in blas)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores")
def test_this_process_gets_its_limits_back_when_a_pool_closes() -> None:
    before = _blas_threads()
    assert before and max(before) > 1  # OpenBLAS starts a thread per core
    hybrid = HybridPool(_runner(1), 2)
    assert all(n == 1 for n in _blas_threads())  # this process predicts as one worker of two
    openmp = hybrid._local.submit(_threads, "openmp").result()  # where it predicts
    assert openmp and all(n == 1 for n in openmp)
    hybrid.close(cancel=True)
    assert _blas_threads() == before

    inline = InlinePool(_runner(2))  # alone on two cores: a core left for the writer thread
    assert all(n == 1 for n in _blas_threads())
    inline.close(cancel=False)
    assert _blas_threads() == before


def test_auto_is_this_process_alone_or_with_forked_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_pools, "usable_cores", lambda: 8)
    assert resolve_executor("auto", 1) == "inline"
    assert resolve_executor("auto", 8) == "hybrid"  # a core each: forked
    assert resolve_executor("auto", 12) == "hybrid"
    assert resolve_executor("auto", 2) == "process"  # four cores each: spawned, OpenMP and all
    assert resolve_executor("process", 1) == "process"


_FITTED: list[Any] = []


def _predict_with_openmp() -> float:
    model, x = _FITTED[0]
    return float(model.predict(x).sum())


def test_a_forked_worker_predicts_with_openmp_this_process_used_before() -> None:
    """GNU OpenMP's pool does not survive a fork: a forked worker given two threads waited
    forever in its first parallel region. Forked workers keep to one OpenMP thread."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingRegressor

    x = np.random.default_rng(0).normal(size=(2_000, 4))
    model = HistGradientBoostingRegressor(max_iter=5).fit(x, x[:, 0])  # OpenMP, here
    _FITTED[:] = [(model, x)]
    expected = _predict_with_openmp()
    pool = ProcessPool(1, 2, runner=_runner(2))
    try:
        assert pool._pool.submit(_predict_with_openmp).result(timeout=60) == expected
    finally:
        for process in list((pool._pool._processes or {}).values()):
            process.kill()  # a worker stuck in OpenMP would never take the shutdown
        pool.close(cancel=True)
        _FITTED.clear()


class _SlowWriter(ChunkRunner):
    """Predicts at once and writes slowly, as a loaded machine's writer thread would."""

    def __init__(self) -> None:
        super().__init__(cast(LoadedModel, None), 2)
        self.written: list[int] = []

    def predict(self, task: Any) -> list[Any]:
        return [task]

    def write(self, task: Any, predicted: list[Any]) -> list[Any]:
        import time

        time.sleep(0.2)
        self.written.append(task)
        return []


def test_writes_handed_over_finish_even_when_the_job_stops() -> None:
    """A chunk predicted before an error or an interruption is on disk when the job returns,
    however far behind the writer thread is: the resume relies on it."""
    runner = _SlowWriter()
    pool = InlinePool(runner)
    for task in range(4):
        pool.submit(cast(Any, task))
    assert len(runner.written) < 4  # the writer is behind
    pool.close(cancel=True)
    assert runner.written == [0, 1, 2, 3]
