from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import modelwright
from modelwright.runner import (
    ProcessExecutor,
    SequentialExecutor,
    make_executor,
    run_pipeline,
)
from modelwright.runner import session as session_module
from modelwright.runner.executors import ExecutorPlugin, executor_names, register_executor
from modelwright.runner.session import PipelineSession
from modelwright.testing import check_executor


@pytest.mark.parametrize("make", [SequentialExecutor, lambda: ProcessExecutor(2)])
def test_builtin_executors_pass_the_conformance_kit(make: Callable[[], object]) -> None:
    executor = make()
    try:
        check_executor(executor)
    finally:
        executor.close()  # type: ignore[attr-defined]


def test_kit_rejects_a_broken_executor() -> None:
    class Broken:
        def submit(self, fn: object, /, *args: object) -> object:
            return None

    with pytest.raises(AssertionError, match="check_returns_result"):
        check_executor(Broken())


def test_unknown_executor_is_a_clear_error() -> None:
    with pytest.raises(modelwright.errors.InvalidInput, match="unknown executor 'gpu'"):
        make_executor("gpu")


def test_same_outputs_on_sequential_and_process(
    tmp_path: Path, make_project: Callable[..., Path]
) -> None:
    project = make_project()
    results = {}
    for name in ("sequential", "process"):
        with modelwright.connect(tmp_path / name) as client:
            session = PipelineSession(client, project, environment="dev")
            result = session.run("main", executor=name)
            results[name] = {k: result.load(k) for k in ("doubled", "summary", "hist")}
    seq, proc = results["sequential"], results["process"]
    assert seq["summary"] == proc["summary"]
    assert seq["doubled"].equals(proc["doubled"])
    assert np.array_equal(seq["hist"], proc["hist"])


def test_process_executor_runs_independent_nodes_and_resumes(
    tmp_path: Path, make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project()
    with modelwright.connect(tmp_path / "home") as client:
        session = PipelineSession(client, project, environment="dev")
        pipe = session.pipeline("main")
        monkeypatch.setenv("MW_TEST_FAIL", "summarise")
        with pytest.raises(modelwright.runner.NodeFailed):
            run_pipeline(client, pipe, name="main", config=session.config, executor="process")
        monkeypatch.delenv("MW_TEST_FAIL")
        again = run_pipeline(client, pipe, name="main", config=session.config, executor="process")
        assert again.nodes["histogram"].status == "cached"
        assert again.nodes["summarise"].status == "ran"


def test_the_snapshot_is_done_before_the_process_executor_forks(
    tmp_path: Path, make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # git runs in a thread while a short pipeline starts; a worker forked meanwhile would
    # inherit subprocess's start-up pipe and leave the snapshot waiting on it for good.
    events: list[str] = []
    real_snapshot = session_module.take_snapshot

    def slow_snapshot() -> dict[str, object]:
        time.sleep(0.3)
        events.append("snapshot")
        return real_snapshot()

    real_submit = ProcessExecutor.submit

    def submit(self: ProcessExecutor, fn: Callable[..., object], /, *args: object) -> object:
        events.append("submit")
        return real_submit(self, fn, *args)

    monkeypatch.setattr(session_module, "take_snapshot", slow_snapshot)
    monkeypatch.setattr(ProcessExecutor, "submit", submit)
    project = make_project()
    with modelwright.connect(tmp_path / "home") as client:
        session = PipelineSession(client, project, environment="dev")
        result = run_pipeline(
            client, session.pipeline("main"), name="main", config=session.config, executor="process"
        )
        assert all(n.status == "ran" for n in result.nodes.values())
        assert events[0] == "snapshot" and "submit" in events
        assert client.get_run(result.run_id).snapshot["python"]


class ThreadExecutor:
    """A third party's executor: nodes on a thread pool."""

    name = "threads"

    def __init__(self, workers: int | None) -> None:
        self._pool = ThreadPoolExecutor(workers or 2)

    def submit(self, fn: Callable[..., object], /, *args: object) -> Future[object]:
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        self._pool.shutdown()


threads = ExecutorPlugin("threads", lambda address, workers: ThreadExecutor(workers))


def test_executors_are_found_through_their_entry_point_group(
    tmp_path: Path,
    make_project: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from importlib.metadata import EntryPoint

    from modelwright import plugins as _plugins
    from modelwright.runner import executors

    group = executors.ENTRY_POINT_GROUP
    points = [
        EntryPoint("threads", f"{__name__}:threads", group),
        EntryPoint("broken", "tests.runner.nowhere:Executor", group),
    ]
    monkeypatch.setattr(executors.REGISTRY, "items", dict(executors.REGISTRY.items))
    monkeypatch.setattr(executors.REGISTRY, "loaded", False)
    monkeypatch.setattr(_plugins, "entry_points", lambda group: points)

    executor = make_executor("threads", workers=3)
    assert isinstance(executor, ThreadExecutor)
    check_executor(executor)
    executor.close()
    assert executor_names() == ["sequential", "process", "ray", "threads"]
    assert "executor entry point 'broken' could not be registered" in caplog.text
    with pytest.raises(
        modelwright.errors.InvalidInput,
        match=r"unknown executor 'gpu' \(expected sequential, process, ray or threads\)",
    ):
        make_executor("gpu")

    # A pipeline runs on it by name, as on a built-in.
    with modelwright.connect(tmp_path / "home") as client:
        result = PipelineSession(client, make_project(), environment="dev").run(
            "main", executor="threads"
        )
        assert all(n.status == "ran" for n in result.nodes.values())
        assert client.get_run(result.run_id).tags["modelwright.executor"] == "threads"


def test_registering_an_executor_by_a_taken_name_is_refused() -> None:
    with pytest.raises(ValueError, match="an executor named 'process' is already registered"):
        register_executor(ExecutorPlugin("process", lambda address, workers: SequentialExecutor()))
