"""Ray: one local instance for the module (2 CPUs), shut down after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import modelwright
from modelwright.errors import NodeFailed
from modelwright.runner import RayExecutor
from modelwright.runner.session import PipelineSession
from modelwright.testing import check_executor

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_executor() -> Iterator[RayExecutor]:
    executor = RayExecutor(num_cpus=2)
    yield executor
    executor.close()


def test_ray_executor_passes_the_conformance_kit(ray_executor: RayExecutor) -> None:
    check_executor(ray_executor)


def test_same_outputs_on_ray_as_sequential(
    ray_executor: RayExecutor, tmp_path: Path, make_project: Callable[..., Path]
) -> None:
    project = make_project()
    results = {}
    for name, executor in (("sequential", "sequential"), ("ray", ray_executor)):
        with modelwright.connect(tmp_path / name) as client:
            session = PipelineSession(client, project, environment="dev")
            result = session.run("main", executor=executor)  # type: ignore[arg-type]
            assert all(r.status == "ran" for r in result.nodes.values())
            results[name] = {k: result.load(k) for k in ("doubled", "summary", "hist")}
    assert results["ray"]["summary"] == results["sequential"]["summary"]
    assert results["ray"]["doubled"].equals(results["sequential"]["doubled"])
    assert np.array_equal(results["ray"]["hist"], results["sequential"]["hist"])


def test_a_node_on_ray_logs_to_its_run_and_a_failure_names_the_users_line(
    ray_executor: RayExecutor, tmp_path: Path, make_project: Callable[..., Path]
) -> None:
    project = make_project(catalog="scores: {type: metrics}\n")
    with modelwright.connect(tmp_path / "home") as client:
        session = PipelineSession(client, project, environment="dev")
        result = session.run("evaluated", executor=ray_executor)
        child = client.get_run(str(result.nodes["evaluate"].run_id))
        assert child.metrics["rows_seen"] == 40.0 and child.parent_id == result.run_id
        assert client.get_run(result.run_id).metrics["f1.macro"] == 0.75
        with pytest.raises(NodeFailed) as info:
            session.run("broken", executor=ray_executor)
    where = str(info.value).splitlines()[1]
    assert "nodes.py:" in where and where.endswith(
        "in broken: return len(frame) / 0  # the line a failure points at"
    )
