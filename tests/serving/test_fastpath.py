"""The all-numeric fast path answers exactly as the general path does, and only when it may."""

from __future__ import annotations

from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.serving.conftest import AppServer, loaded, saved_model, training_frame

from modelwright.registry.predict import LoadedModel, parse_payload
from modelwright.registry.signature import infer_signature
from modelwright.serving import ServingConfig, create_model_app
from modelwright.serving.fastpath import NumericRows, NumericTable


@pytest.fixture
def table(churn_model: LoadedModel) -> NumericTable:
    fast = NumericTable.of(churn_model.signature)
    assert fast is not None and fast.names == ["tenure", "calls"]
    return fast


@pytest.mark.parametrize(
    "payload",
    [
        {"dataframe_split": {"columns": ["tenure", "calls"], "data": [[0.5, 1], [-1.0, 3]]}},
        {"dataframe_records": [{"tenure": 0.5, "calls": 1}, {"calls": 3, "tenure": -1.0}]},
        {"instances": [{"tenure": 0.5, "calls": 1}, {"tenure": -1.0, "calls": 3.0}]},
        {"inputs": [[0.5, 1], [-1, 3]]},
    ],
)
def test_plain_bodies_take_the_fast_path_with_the_same_answer(
    churn_model: LoadedModel, table: NumericTable, payload: dict[str, Any]
) -> None:
    rows = table.parse(payload)
    assert isinstance(rows, NumericRows) and len(rows) == 2
    fast = table.frame(rows.values)
    general = churn_model.validate(parse_payload(payload, churn_model.signature))
    pd.testing.assert_frame_equal(fast, general.reset_index(drop=True), check_dtype=True)
    assert fast["calls"].dtype == np.int64


@pytest.mark.parametrize(
    "payload",
    [
        {"dataframe_split": {"columns": ["calls", "tenure"], "data": [[1, 0.5]]}},  # order
        {"dataframe_split": {"columns": ["tenure", "calls"], "data": [[0.5, "1"]]}},  # string
        {"dataframe_split": {"columns": ["tenure", "calls"], "data": [[0.5, True]]}},  # bool
        {"dataframe_split": {"columns": ["tenure", "calls"], "data": [[None, 1]]}},  # null
        {"dataframe_split": {"columns": ["tenure", "calls"], "data": [[0.5, 1.5]]}},  # not whole
        {"dataframe_split": {"columns": ["tenure", "calls"], "data": [[0.5]]}},  # short row
        {"dataframe_records": [{"tenure": 0.5}]},  # missing column
        {"dataframe_records": [{"tenure": 0.5, "calls": 1, "x": 2}]},  # extra column
        {"dataframe_records": []},
        {"instances": [0.5, 1]},  # not rows
        {"dataframe_split": {"columns": ["tenure", "calls"], "data": [[0.5, 1]], "index": [0]}},
        {"other": []},
    ],
)
def test_anything_else_takes_the_general_path(table: NumericTable, payload: dict[str, Any]) -> None:
    assert table.parse(payload) is None


def test_only_all_numeric_tables_have_a_fast_path(tmp_path: Any) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = training_frame()
    x["plan"] = np.where(x["calls"] > 2, "a", "b")
    sig = infer_signature(x, y)
    assert NumericTable.of(sig) is None
    assert NumericTable.of(None) is None
    array = infer_signature(np.zeros((3, 2)), np.zeros(3))
    assert NumericTable.of(array) is None
    model = LogisticRegression().fit(x[["tenure", "calls"]], y)
    path, digest = saved_model(model, x[["tenure", "calls"]][:5], tmp_path / "m")
    assert NumericTable.of(loaded(path, digest).signature) is not None


def test_errors_and_batches_are_unchanged_over_http(churn_model: LoadedModel) -> None:
    config = ServingConfig(max_batch_size=8, max_latency_ms=20)
    app = create_model_app(churn_model, name="churn", version=1, config=config)
    with AppServer(app) as srv, httpx.Client(base_url=srv.url) as http:
        r = http.post(
            "/invocations",
            json={"dataframe_split": {"columns": ["tenure", "calls"], "data": [[0.5, "x"]]}},
        )
        assert r.status_code == 400 and "calls" in r.text
        r = http.post(
            "/invocations",
            json={"dataframe_split": {"columns": ["tenure", "calls"], "data": [[None, 1]]}},
        )
        assert r.status_code in (200, 400)  # the model decides about NaN in a float column
        rows = [[0.1 * i, i % 5] for i in range(40)]
        r = http.post(
            "/invocations", json={"dataframe_split": {"columns": ["tenure", "calls"], "data": rows}}
        )
        expected = churn_model.predict(pd.DataFrame(rows, columns=["tenure", "calls"]))
        assert r.status_code == 200 and r.json()["predictions"] == expected.tolist()


def test_an_all_float_sklearn_model_predicts_on_the_array(tmp_path: Any) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from modelwright.serving.app import ModelServer

    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.normal(size=(120, 30)), columns=[f"f{i}" for i in range(30)])
    y = (x["f0"] + x["f3"] > 0).astype(int).to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    path, digest = saved_model(model, x[:5], tmp_path / "m")
    app = create_model_app(loaded(path, digest), name="m", version=1)
    assert isinstance(app, ModelServer) and app.predictor.fast_array
    rows = x.head(25).to_numpy().tolist()
    with AppServer(app) as srv:
        r = httpx.post(
            f"{srv.url}/invocations",
            json={"dataframe_split": {"columns": list(x.columns), "data": rows}},
        )
        one = httpx.post(
            f"{srv.url}/invocations", json={"dataframe_records": x.head(1).to_dict("records")}
        )
    assert r.status_code == 200 and r.json()["predictions"] == model.predict(x.head(25)).tolist()
    assert one.json()["predictions"] == model.predict(x.head(1)).tolist()
