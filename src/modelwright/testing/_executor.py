"""The executor contract, as checks any executor must pass: ``check_executor(executor)``.

Functions travel to the executor by reference to this module, so an executor that leaves the
process must be able to import ``modelwright`` where it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

__all__ = ["EXECUTOR_CHECKS", "check_executor"]


def _add(a: int, b: int) -> int:
    return a + b


def _frame(n: int) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(n)
    return pd.DataFrame({"x": rng.normal(size=n), "k": [f"k{i % 3}" for i in range(n)]})


def _fail(message: str) -> None:
    raise ValueError(message)


def _features(frame: Any, scale: float) -> Any:
    out = frame.copy()
    out["y"] = out["x"] * scale
    return out


def _expect(condition: bool, message: str) -> None:
    # Not ``assert``: the checks must also hold under ``python -O``.
    if not condition:
        raise AssertionError(message)


def _result(future: Any) -> Any:
    if not isinstance(future, Future):
        raise AssertionError(f"submit must return a concurrent.futures.Future, got {future!r}")
    return future.result(timeout=120)


def check_returns_result(executor: Any) -> None:
    _expect(_result(executor.submit(_add, 2, 40)) == 42, "submit(fn, *args) must run fn(*args)")


def check_dataframes_round_trip(executor: Any) -> None:
    expected = _frame(50)
    got = _result(executor.submit(_frame, 50))
    _expect(got.equals(expected), "a DataFrame result must come back identical")


def check_errors_surface(executor: Any) -> None:
    future = executor.submit(_fail, "node exploded")
    try:
        _result(future)
    except ValueError as exc:
        _expect("node exploded" in str(exc), f"the error message was lost: {exc!r}")
    else:
        raise AssertionError("a function that raises must give a future that raises")


def check_many_at_once(executor: Any) -> None:
    futures = [executor.submit(_add, i, i) for i in range(8)]
    _expect(
        [_result(f) for f in futures] == [2 * i for i in range(8)],
        "each future must hold the result of its own submission",
    )


def check_runs_nodes(executor: Any) -> None:
    """The runner's own task (a node and its input values) gives the same outputs."""
    from modelwright.pipelines.node import node
    from modelwright.runner.task import call_node

    n = node(_features, inputs=["frame", "params:scale"], outputs="features")
    frame = _frame(20)
    got = _result(executor.submit(call_node, n, [frame, 2.0]))
    _expect(set(got) == {"features"}, f"outputs by name expected, got {sorted(got)}")
    _expect(got["features"].equals(_features(frame, 2.0)), "node outputs differ")


EXECUTOR_CHECKS: tuple[Callable[[Any], None], ...] = (
    check_returns_result,
    check_dataframes_round_trip,
    check_errors_surface,
    check_many_at_once,
    check_runs_nodes,
)


def check_executor(executor: Any) -> None:
    """Run every check of the executor contract; raises ``AssertionError`` naming the first
    that fails."""
    for check in EXECUTOR_CHECKS:
        try:
            check(executor)
        except AssertionError as exc:
            raise AssertionError(f"{check.__name__}: {exc}") from exc
