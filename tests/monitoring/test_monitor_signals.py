"""The values of one monitor evaluation, computed from captured requests and a baseline:
drift per feature, data quality, empty windows; and captured requests read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tests.monitoring.monitor_data import FEATURES, capture, customers, records

from modelwright.monitors.capture import decode_requests, read_capture
from modelwright.monitors.models import DEFAULT_THRESHOLDS
from modelwright.monitors.signals import Row, evaluate

T = dict(DEFAULT_THRESHOLDS)


def by(rows: list[Row], metric: str, feature: str | None = None) -> Row:
    found = [r for r in rows if r["metric"] == metric and r["feature"] == feature]
    assert len(found) == 1, (metric, feature, rows)
    return found[0]


def window(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as the monitor sees it: captured as JSON, decoded again."""
    bodies = [json.dumps({"dataframe_records": records(frame)})]
    current, bad = decode_requests(bodies, FEATURES)
    assert bad == 0
    return current


def test_a_shifted_window_drifts_and_the_same_distribution_does_not() -> None:
    baseline = customers(seed=0)
    shifted_window = window(customers(200, seed=5, shift=2.0))
    shifted = evaluate(baseline, shifted_window, FEATURES, ["drift"], T)
    tenure = by(shifted, "drift", "tenure")
    assert (tenure["status"], tenure["detail"]) == ("alert", "K-S p_value")
    assert tenure["value"] < 0.05 == tenure["threshold"]
    assert by(shifted, "drift", "calls")["status"] == "ok"
    share = by(shifted, "drift_share")
    assert (share["value"], share["threshold"], share["status"]) == (1 / 3, 0.5, "ok")
    assert share["detail"] == "1 of 3 feature(s) drifted"

    same = evaluate(baseline, window(customers(200, seed=3)), FEATURES, ["drift"], T)
    assert {r["feature"]: r["status"] for r in same} == {
        None: "ok", "tenure": "ok", "calls": "ok", "plan": "ok"
    }  # fmt: skip
    lower = {**T, "drift_share": 0.3}
    both = evaluate(baseline, shifted_window, FEATURES, ["drift"], lower)
    assert by(both, "drift_share")["status"] == "alert"


def test_an_empty_window_is_no_data_never_no_drift() -> None:
    rows = evaluate(customers(), pd.DataFrame(), FEATURES, ["drift", "quality"], T, undecodable=2)
    assert {r["status"] for r in rows} == {"no_data"}
    assert by(rows, "drift_share")["value"] is None
    assert by(rows, "drift", "tenure")["value"] is None
    assert by(rows, "rows")["value"] == 0.0
    assert "no captured request in the window (2 unreadable)" in by(rows, "rows")["detail"]


def test_quality_counts_missing_out_of_range_unseen_and_mistyped_values() -> None:
    baseline = customers(seed=0)
    current = customers(100, seed=3)
    current.loc[:9, "tenure"] = np.nan  # 10 % missing
    current.loc[10:29, "tenure"] = 50.0  # 20 % beyond the baseline's max
    current.loc[:4, "plan"] = "enterprise"  # 5 % unseen
    current.loc[5:6, "plan"] = None
    decoded = window(current)
    decoded["calls"] = decoded["calls"].astype(object)
    decoded.loc[0, "calls"] = "three"  # a string where the baseline has integers
    rows = evaluate(baseline, decoded, FEATURES, ["quality"], T)
    assert by(rows, "missing_share", "tenure")["value"] == 0.1
    assert by(rows, "missing_share", "tenure")["status"] == "alert"
    out = by(rows, "out_of_range_share", "tenure")
    assert (out["value"], out["status"]) == (20 / 90, "alert")
    assert out["detail"].startswith("20 value(s) outside the baseline's [")
    unseen = by(rows, "unseen_share", "plan")
    assert (unseen["value"], unseen["status"]) == (5 / 98, "alert")
    assert "'enterprise'" in unseen["detail"]
    assert by(rows, "missing_share", "plan")["value"] == 0.02
    mistyped = by(rows, "type_mismatch_share", "calls")
    assert (mistyped["value"], mistyped["status"]) == (0.01, "alert")
    assert by(rows, "type_mismatch_share", "tenure")["status"] == "ok"
    assert by(rows, "rows") | {"detail": ""} == {
        "signal": "quality", "metric": "rows", "feature": None, "value": 100.0,
        "threshold": 1.0, "status": "ok", "detail": "",
    }  # fmt: skip


def test_a_column_missing_from_the_capture_is_a_schema_mismatch_naming_it() -> None:
    current = window(customers(100, seed=4).drop(columns=["plan"]))
    rows = evaluate(customers(), current, FEATURES, ["drift", "quality"], T)
    mismatch = by(rows, "schema_mismatch", "plan")
    assert mismatch["status"] == "alert"
    assert "column 'plan' of the model's inputs is missing" in mismatch["detail"]
    assert by(rows, "drift", "plan")["status"] == "no_data"
    assert by(rows, "drift", "tenure")["status"] == "ok"


def test_an_all_nan_feature_is_no_data_for_drift() -> None:
    current = customers(100, seed=5).assign(tenure=np.nan)
    rows = evaluate(customers(), window(current), FEATURES, ["drift", "quality"], T)
    assert by(rows, "drift", "tenure")["status"] == "no_data"
    assert by(rows, "missing_share", "tenure")["value"] == 1.0
    assert by(rows, "out_of_range_share", "tenure")["status"] == "no_data"


def test_requests_of_every_format_decode_into_rows() -> None:
    bodies = [
        json.dumps({"dataframe_records": [{"tenure": 1.0, "calls": 2, "plan": "pro"}]}),
        json.dumps({"dataframe_split": {"columns": FEATURES, "data": [[2.0, 3, "plus"]]}}),
        json.dumps({"instances": [[3.0, 4, "basic"]]}),
        json.dumps({"inputs": {"tenure": [4.0], "calls": [1], "plan": ["pro"]}}),
        json.dumps(
            {
                "inputs": [
                    {"name": "tenure", "shape": [1], "datatype": "FP64", "data": [5.0]},
                    {"name": "calls", "shape": [1], "datatype": "INT64", "data": [0]},
                    {"name": "plan", "shape": [1], "datatype": "BYTES", "data": ["plus"]},
                ]
            }
        ),
        "tenure,calls,plan\n6.0,1,basic\n",
        "{not json",
        json.dumps({"something": []}),
    ]
    frame, bad = decode_requests(bodies, FEATURES)
    assert bad == 2
    assert frame["tenure"].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert frame["plan"].tolist() == ["pro", "plus", "basic", "pro", "plus", "basic"]


def test_capture_is_read_back_for_the_window_only_without_shadow_copies(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    capture(lake, records(customers(30, seed=1)), per_request=3)
    capture(lake, records(customers(8, seed=2)), deployment="green")
    capture(lake, records(customers(5, seed=3)), deployment="shadow", shadow=True)
    old = datetime.now(UTC) - timedelta(hours=3)
    day = lake / "capture" / "churn" / "blue" / f"date={old:%Y-%m-%d}"
    day.mkdir(parents=True, exist_ok=True)
    row = {
        "request_id": "old", "at": old, "endpoint": "churn", "deployment": "blue",
        "model": "m", "status": 200, "latency_ms": 1.0, "shadow": False,
        "request": json.dumps({"dataframe_records": [{"tenure": 9.0}]}), "response": "{}",
    }  # fmt: skip
    pq.write_table(pa.Table.from_pylist([row]), day / "old.parquet")
    now = datetime.now(UTC)
    captured = read_capture(str(lake), "churn", now - timedelta(hours=1), now)
    assert len(captured) == 10 + 8
    assert set(captured["deployment"]) == {"blue", "green"}
    everything = read_capture(str(lake), "churn", now - timedelta(hours=4), now)
    assert "old" in set(everything["request_id"])
    assert read_capture(str(lake), "nothing-here", now - timedelta(hours=1), now).empty
