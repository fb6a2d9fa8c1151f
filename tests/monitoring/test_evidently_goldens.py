"""By default drift() says what Evidently 0.7.23's DataDriftPreset says, to 1e-9 relative.

The goldens were written by bench/make_drift_goldens.py in Evidently's own venv from the frames
of tests/monitoring/frames.py, which this test builds again (the fingerprints prove the values
are the same in both venvs).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from tests.monitoring.frames import CASES, fingerprint, make_case

from modelwright.monitoring import drift, get_method

GOLDENS = Path(__file__).resolve().parent / "goldens"
REL = 1e-9


def load(case: str) -> dict[str, Any]:
    return json.loads((GOLDENS / f"{case}.json").read_text())


def close(got: float | None, want: float) -> bool:
    assert got is not None
    if want == 0.0 or math.isinf(want):
        return got == want
    return math.isclose(got, want, rel_tol=REL, abs_tol=0.0)


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, Any, Any]:
    name = request.param
    reference, current = make_case(name)
    assert [fingerprint(reference), fingerprint(current)] == load(name)["fingerprint"]
    return name, reference, current


def test_default_preset_matches_evidently(case: tuple[str, Any, Any]) -> None:
    name, reference, current = case
    golden = load(name)["preset"]
    result = drift(reference, current)
    tested = {c.column: c for c in result if c.status == "ok"}
    assert sorted(tested) == sorted(golden["columns"])
    for column, want in golden["columns"].items():
        got = tested[column]
        assert got.method_label == want["method"], column
        assert got.threshold == want["threshold"], column
        assert close(got.score, want["score"]), (column, got.score, want["score"])
        assert got.drifted == want["drifted"], column
    assert result.number_of_drifted_columns == golden["count"]
    assert close(result.share, golden["share"])
    assert result.dataset_drift == golden["dataset_drift"]


@pytest.mark.parametrize(
    "method",
    [
        "ks",
        "wasserstein",
        "anderson",
        "jensenshannon",
        "psi",
        "kl_div",
        "hellinger",
        "chisquare",
        "z",
    ],
)
def test_each_evidently_method_matches(case: tuple[str, Any, Any], method: str) -> None:
    name, reference, current = case
    golden = load(name)["methods"][method]
    columns = sorted(golden["columns"])
    result = drift(reference, current, method=method, columns=columns)
    for column, want in golden["columns"].items():
        got = result[column]
        assert got.method == method
        assert got.threshold == want["threshold"]
        assert close(got.score, want["score"]), (column, got.score, want["score"])
        assert got.drifted == want["drifted"], column
    assert result.number_of_drifted_columns == golden["count"]
    assert result.dataset_drift == golden["dataset_drift"]


def test_default_methods_are_the_registered_ones() -> None:
    for name in ("ks", "chisquare", "z", "wasserstein", "jensenshannon"):
        assert get_method(name).name == name
