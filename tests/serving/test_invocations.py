"""/invocations speaks MLflow's scoring protocol: what it accepts (JSON with params, CSV,
/version) and, for anything else, a 400 in MLflow's error shape naming the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import pandas as pd
import pytest
from tests.serving.conftest import AppServer, loaded, saved_model

from modelwright import __version__
from modelwright.endpoints.models import InvokeDecision
from modelwright.registry.predict import LoadedModel
from modelwright.serving import create_model_app
from modelwright.serving.router import (
    Authorizer,
    EndpointRoute,
    RouterApp,
    RouterMetrics,
    Upstream,
)

COLUMNS = [f"f{i}" for i in range(30)]
# The model server turns this warning off when it starts (it predicts on the bare array);
# pytest restores its filters after each test while the module's server lives on.
pytestmark = pytest.mark.filterwarnings("ignore:X does not have valid feature names:UserWarning")


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoadedModel, pd.DataFrame]:
    """A 30-column float model and rows to ask it about."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.normal(size=(60, 30)), columns=COLUMNS)
    y = (x["f0"] - x["f7"] > 0).astype(int).to_numpy()
    path, digest = saved_model(
        LogisticRegression().fit(x, y), x[:5], Path(tmp_path_factory.mktemp("wide")) / "m"
    )
    return loaded(path, digest), x


@pytest.fixture(scope="module")
def served(wide: tuple[LoadedModel, pd.DataFrame]) -> Iterator[dict[str, str]]:
    """{"server": model server URL, "router": the same model behind a router}: the
    invocations URL of each."""
    model, _ = wide

    async def ask(token: str) -> InvokeDecision:
        return InvokeDecision(principal="p", allowed=True, status=200, reason="granted")

    with AppServer(create_model_app(model, name="wide", version=1)) as server:
        router = RouterApp("ml", "dev", Authorizer(ask, require_token=False), RouterMetrics())
        router.update(
            {
                "wide": EndpointRoute(
                    name="wide",
                    generation=1,
                    deployments={"a": Upstream.connect("a", server.url, 1 << 20)},
                    weights={"a": 100},
                )
            }
        )
        with AppServer(router) as front:
            yield {
                "server": f"{server.url}/invocations",
                "router": f"{front.url}/endpoints/ml/dev/wide/invocations",
            }


def _row(x: pd.DataFrame, width: int = 30) -> list[float]:
    return [float(v) for v in x.iloc[0].tolist()[:width]] + [0.5] * max(0, width - 30)


BAD: list[tuple[str, Any, str]] = [
    # (what, body, the message's start)
    ("29 values in a row", "ROW29", "instances[0]: row has 29 values, 30 expected"),
    ("31 values in a row", "ROW31", "instances[0]: row has 31 values, 30 expected"),
    ("a scalar for the rows", {"instances": 3}, "instances: expected a list of rows"),
    ("a string for the rows", {"inputs": "abc"}, "inputs: expected a list of rows"),
    ("a boolean for the rows", {"instances": True}, "instances: expected a list of rows"),
    ("scalars for rows", {"instances": [1, 2, 3]}, "instances[0]: expected a row"),
    ("null for the table", {"dataframe_split": None}, "dataframe_split: expected"),
    ("a null record", {"dataframe_records": [None]}, "dataframe_records[0]: expected an object"),
    ("a null row", {"instances": [None]}, "instances[0]: expected a row"),
    ("no rows", {"instances": []}, "instances: no rows"),
    ("a 3-D array", "ROW3D", "instances[0][0]: expected a number, string, boolean or null"),
    ("columns and data disagree", "SPLIT29", "dataframe_split.data[0]: row has 29 values"),
    (
        "nested junk in a record",
        {"dataframe_records": [{"f0": {"a": [1]}}]},
        "dataframe_records[0].f0: expected a number",
    ),
    (
        "a column given twice",
        {"dataframe_split": {"columns": ["f0", "f0"], "data": [[1, 2]]}},
        "dataframe_split.columns: column 'f0' is given twice",
    ),
    (
        "columns not names",
        {"dataframe_split": {"columns": [1], "data": [[1]]}},
        "dataframe_split.columns",
    ),
    ("two formats", {"instances": [[1]], "inputs": [[1]]}, "body: expected exactly one of"),
    ("params alone", {"params": {}}, "body: expected exactly one of"),
    ("a list for the body", [[1, 2]], "body: expected a JSON object"),
    ("null for the body", None, "body: expected a JSON object"),
    ("params not an object", "PARAMS_LIST", "params: expected an object, got a list"),
    (
        "an unknown prediction method",
        "PARAMS_METHOD",
        "params.method: unknown prediction method 'predict_probability'",
    ),
    (
        "the method given twice",
        {"instances": [[1.0] * 30], "params": {"method": "predict", "predict_method": "predict"}},
        "params: give the prediction method once",
    ),
    (
        "strings in a float column",
        "STRING_CELL",
        "input: column 'f3' has type",
    ),
    (
        "ragged column lists",
        {"inputs": {"f0": [1.0, 2.0], "f1": [1.0]}},
        "inputs: columns have different lengths [1, 2]",
    ),
]


def _body(body: Any, x: pd.DataFrame) -> Any:
    row = _row(x)
    return (
        {
            "ROW29": {"instances": [_row(x, 29)]},
            "ROW31": {"instances": [_row(x, 31)]},
            "ROW3D": {"instances": [[row, row]]},
            "SPLIT29": {"dataframe_split": {"columns": COLUMNS, "data": [row[:29]]}},
            "PARAMS_LIST": {"instances": [row], "params": [1]},
            "PARAMS_METHOD": {"instances": [row], "params": {"method": "predict_probability"}},
            "STRING_CELL": {
                "dataframe_split": {"columns": COLUMNS, "data": [[*row[:3], "x", *row[4:]]]}
            },
        }.get(body, body)
        if isinstance(body, str)
        else body
    )


@pytest.mark.parametrize("via", ["server", "router"])
@pytest.mark.parametrize(("what", "body", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_400_in_mlflows_shape_naming_the_field(
    served: dict[str, str],
    wide: tuple[LoadedModel, pd.DataFrame],
    via: str,
    what: str,
    body: Any,
    message: str,
) -> None:
    r = httpx.post(
        served[via],
        content=orjson.dumps(_body(body, wide[1])),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert r.status_code == 400, (what, r.text)
    assert set(r.json()) == {"error_code", "message"} and r.json()["error_code"] == "BAD_REQUEST"
    assert r.json()["message"].startswith(message), r.json()["message"]


@pytest.mark.parametrize("via", ["server", "router"])
def test_what_mlflows_scoring_server_accepts_is_accepted(
    served: dict[str, str], wide: tuple[LoadedModel, pd.DataFrame], via: str
) -> None:
    model, x = wide
    rows = x[:4]
    expected = model.raw.predict(rows).tolist()
    url = served[via]
    with httpx.Client(timeout=30) as http:
        # CSV, as pandas writes it (MLflow reads it with pandas.read_csv).
        csv = rows.to_csv(index=False).encode()
        for content_type in ("text/csv", "text/csv; charset=utf-8"):
            r = http.post(url, content=csv, headers={"content-type": content_type})
            assert r.status_code == 200, r.text
            assert r.json() == {"predictions": expected}
        # A params object beside the payload: read, and unknown params are ignored.
        split = {"columns": COLUMNS, "data": rows.to_numpy().tolist()}
        for params in ({}, {"temperature": 0.1, "anything": [1, {"x": None}]}, None):
            r = http.post(url, json={"dataframe_split": split, "params": params})
            assert r.status_code == 200 and r.json() == {"predictions": expected}, r.text
        # Columns as lists ("inputs" in column form).
        r = http.post(url, json={"inputs": {c: rows[c].tolist() for c in COLUMNS}})
        assert r.status_code == 200 and r.json() == {"predictions": expected}, r.text
        base = url.rsplit("/", 1)[0]
        r = http.get(f"{base}/version")
        assert r.status_code == 200 and r.text == __version__
        # What CSV cannot be, said as such.
        for content, content_type, status, message in (
            (b"", "text/csv", 400, "body: not valid CSV"),
            (b"f0,f1\n", "text/csv", 400, "body: the CSV holds no rows"),
            (b"f0\n\xff\xfe\n", "text/csv", 400, "body: not valid CSV"),
            (csv, "text/csv; charset=latin-1", 415, "charset 'latin-1' is not supported"),
            (csv, "text/csv; format=pandas-split", 415, "unexpected parameter 'format'"),
            (csv[:40] + b"\n1,2", "text/csv", 400, "input: missing columns"),
        ):
            r = http.post(url, content=content, headers={"content-type": content_type})
            assert r.status_code == status, (content[:30], r.text)
            assert r.json()["message"].startswith(message) or message in r.json()["message"]
