"""drift(): inputs (pandas, pyarrow, Parquet paths), bad input, options and plug-ins."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest
from tests.monitoring.frames import make_case

from modelwright.errors import InvalidInput
from modelwright.monitoring import (
    ColumnsMissing,
    DriftInputError,
    EmptyData,
    UnknownDriftMethod,
    UnsupportedColumn,
    drift,
    get_method,
    infer_kind,
    method_names,
)
from modelwright.monitoring import methods as registry


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_case("small")


def same_results(a, b) -> None:  # type: ignore[no-untyped-def]
    assert a.to_dict() == b.to_dict()


def test_pyarrow_tables_parquet_paths_and_datasets_give_the_same_result(
    frames: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    reference, current = frames
    want = drift(reference, current)
    ref_table = pa.Table.from_pandas(reference, preserve_index=False)
    cur_table = pa.Table.from_pandas(current, preserve_index=False)
    same_results(drift(ref_table, cur_table), want)
    pq.write_table(ref_table, tmp_path / "reference.parquet", row_group_size=97)
    (tmp_path / "current").mkdir()
    half = cur_table.num_rows // 2
    pq.write_table(cur_table.slice(0, half), tmp_path / "current" / "part-0.parquet")
    pq.write_table(cur_table.slice(half), tmp_path / "current" / "part-1.parquet")
    same_results(drift(tmp_path / "reference.parquet", str(tmp_path / "current")), want)
    same_results(drift(pads.dataset(tmp_path / "reference.parquet"), current), want)


def test_pandas_index_columns_in_parquet_are_not_data(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": np.arange(50.0)}, index=np.arange(50) * 3)
    frame.to_parquet(tmp_path / "f.parquet")  # stores the index as __index_level_0__
    assert list(drift(tmp_path / "f.parquet", frame).columns) == ["x"]


def test_result_shape_and_decision(frames: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    result = drift(*frames)
    ks = result["normal_shift"]
    assert (ks.method, ks.method_label, ks.score_kind) == ("ks", "K-S p_value", "p_value")
    assert ks.p_value == ks.score and ks.distance is None and ks.drifted
    assert result.share == result.number_of_drifted_columns / result.number_of_columns
    assert result.dataset_drift == (result.share >= 0.5)
    assert set(result.drifted_columns) <= set(result.columns)
    body = json.loads(json.dumps(result.to_dict()))
    assert body["columns"][0]["column"] == "normal_shift"
    assert len(result.to_frame()) == len(result.columns)


def test_all_nan_column_is_reported_not_raised() -> None:
    reference = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0)})
    current = pd.DataFrame({"x": np.full(10, np.nan), "y": [np.inf] * 5 + [-np.inf] * 5})
    result = drift(reference, current, column_types={"x": "numerical", "y": "numerical"})
    for name in ("x", "y"):
        assert result[name].status == "empty"
        assert "current" in (result[name].reason or "")
    assert result.number_of_columns == 0 and not result.dataset_drift
    assert result.skipped == ("x", "y")


def test_missing_columns_are_named_per_side() -> None:
    reference = pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]})
    current = pd.DataFrame({"a": [1.0], "d": [2.0]})
    with pytest.raises(ColumnsMissing) as caught:
        drift(reference, current)
    assert caught.value.details == {
        "missing_from_current": ["b", "c"],
        "missing_from_reference": ["d"],
    }
    assert "'b', 'c'" in str(caught.value)
    assert isinstance(caught.value, InvalidInput) and caught.value.status == 400
    assert drift(reference, current, columns=["a"]).number_of_columns == 1


def test_empty_sides_are_clear_errors() -> None:
    reference = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(EmptyData, match="the current data has no rows"):
        drift(reference, reference.iloc[:0])
    with pytest.raises(EmptyData, match="the reference data has no rows"):
        drift(reference.iloc[:0], reference)
    with pytest.raises(EmptyData, match="no columns"):
        drift(pd.DataFrame(index=[0]), pd.DataFrame(index=[0]))
    with pytest.raises(DriftInputError, match="does not exist"):
        drift("/nonexistent/ref.parquet", reference)
    with pytest.raises(DriftInputError, match="expected a pandas DataFrame"):
        drift([1, 2, 3], reference)


def test_method_and_type_mismatches_are_errors() -> None:
    reference = pd.DataFrame({"s": ["a", "b"] * 10, "x": np.arange(20.0)})
    with pytest.raises(UnsupportedColumn, match="'ks' does not apply to categorical column 's'"):
        drift(reference, reference, method="ks")
    with pytest.raises(UnsupportedColumn, match="numerical but holds object"):
        drift(reference, reference, column_types={"s": "numerical"})
    with pytest.raises(UnsupportedColumn, match="column_types"):
        drift(reference, reference, column_types={"s": "nominal"})  # type: ignore[dict-item]
    with pytest.raises(UnknownDriftMethod, match="no drift method named 'nope'"):
        drift(reference, reference, method="nope")


def test_per_column_methods_and_thresholds() -> None:
    rng = np.random.default_rng(3)
    reference = pd.DataFrame({"x": rng.normal(0, 1, 500), "y": rng.normal(0, 1, 500)})
    current = pd.DataFrame({"x": rng.normal(0.2, 1, 500), "y": rng.normal(0, 1, 500)})
    result = drift(reference, current, method={"x": "psi"}, threshold={"x": 0.0001})
    assert result["x"].method == "psi" and result["x"].threshold == 0.0001 and result["x"].drifted
    assert result["y"].method == "ks" and result["y"].threshold == 0.05
    assert drift(reference, current, method=get_method("hellinger"))["y"].method == "hellinger"
    strict = drift(
        reference, current, method={"x": "psi"}, threshold={"x": 0.0001}, drift_share=0.01
    )
    assert strict.dataset_drift and strict.drift_share == 0.01


def test_column_types_follow_evidently() -> None:
    assert infer_kind(pd.Series([1.0, 2.0])) == "numerical"
    assert infer_kind(pd.Series(np.arange(11))) == "numerical"
    assert infer_kind(pd.Series(np.arange(10))) == "categorical"
    assert infer_kind(pd.Series(["a", "b", "a", "a"])) == "categorical"
    assert infer_kind(pd.Series(["a", "b", "c", None])) == "text"  # more distinct than half
    assert infer_kind(pd.Series([True, False])) == "categorical"
    assert infer_kind(pd.Series(pd.Categorical(["x"]))) == "categorical"
    assert infer_kind(pd.Series(pd.to_datetime(["2024-01-01"]))) == "datetime"
    assert infer_kind(pd.Series(np.arange(3, dtype=np.uint8))) == "unknown"  # as in Evidently
    assert infer_kind(pd.Series([None, None], dtype=object)) == "unknown"
    frame = pd.DataFrame({"t": [f"free text {i}" for i in range(10)], "x": np.arange(10.0)})
    result = drift(frame, frame)
    assert result["t"].status == "skipped" and "text" in (result["t"].reason or "")
    assert result.number_of_columns == 1


def test_unsigned_ints_can_be_typed_explicitly() -> None:
    frame = pd.DataFrame({"u": np.arange(30, dtype=np.uint8)})
    assert drift(frame, frame)["u"].status == "skipped"
    assert drift(frame, frame, column_types={"u": "numerical"})["u"].method == "ks"


def test_third_party_methods_come_from_entry_points(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mw_drift_plugin.py").write_text(
        "from dataclasses import dataclass\n"
        "from modelwright.monitoring import BaseMethod, Score\n"
        "@dataclass(frozen=True)\n"
        "class MeanGap(BaseMethod):\n"
        "    name: str = 'mean_gap'\n"
        "    label: str = 'absolute mean difference'\n"
        "    default_threshold: float = 0.5\n"
        "    score_kind: str = 'distance'\n"
        "    def compute(self, reference, current, kind):\n"
        "        gap = abs(float(reference.mean()) - float(current.mean()))\n"
        "        return Score(value=gap, statistic=gap)\n"
    )
    info = tmp_path / "mw_drift_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mw-drift-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[modelwright.drift_methods]\nmean_gap = mw_drift_plugin:MeanGap\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry.REGISTRY, "loaded", False)
    monkeypatch.setattr(registry.REGISTRY, "items", dict(registry.REGISTRY.items))
    assert "mean_gap" in method_names()
    frame = pd.DataFrame({"x": np.arange(10.0)})
    result = drift(frame, frame + 1, method="mean_gap")
    assert result["x"].score == 1.0 and result["x"].drifted
    monkeypatch.delitem(sys.modules, "mw_drift_plugin", raising=False)
