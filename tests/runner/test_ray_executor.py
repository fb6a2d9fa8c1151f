"""Ray: one local instance for the module (2 CPUs), shut down after."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

import modelwright
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
