"""The model server of one deployment, over real HTTP: OIP V2, /invocations, bad input."""

from __future__ import annotations

import httpx
import numpy as np
from tests.serving.conftest import AppServer, training_frame

from modelwright.registry.predict import LoadedModel
from modelwright.serving import ServingConfig, create_model_app


def _oip_inputs(tenure: list[float], calls: list[int]) -> dict[str, object]:
    return {
        "id": "req-1",
        "inputs": [
            {"name": "tenure", "shape": [len(tenure)], "datatype": "FP64", "data": tenure},
            {"name": "calls", "shape": [len(calls), 1], "datatype": "INT64", "data": calls},
        ],
    }


def test_open_inference_protocol(churn_model: LoadedModel, http: httpx.Client) -> None:
    x, _ = training_frame()
    expected = churn_model.raw.predict(x[:3]).tolist()
    with AppServer(create_model_app(churn_model, name="churn", version=3)) as srv:
        assert http.get(f"{srv.url}/v2/health/live").json()["live"] is True
        assert http.get(f"{srv.url}/v2/health/ready").json()["ready"] is True
        assert http.get(f"{srv.url}/v2").json()["name"] == "modelwright"
        meta = http.get(f"{srv.url}/v2/models/churn").json()
        assert meta["versions"] == ["3"] and meta["platform"] == "sklearn"
        assert [(i["name"], i["datatype"]) for i in meta["inputs"]] == [
            ("tenure", "FP64"),
            ("calls", "INT64"),
        ]
        assert http.get(f"{srv.url}/v2/models/churn/versions/3/ready").json()["ready"] is True
        body = _oip_inputs(x["tenure"][:3].tolist(), x["calls"][:3].tolist())
        for path in ("/v2/models/churn/infer", "/v2/models/churn/versions/3/infer"):
            r = http.post(f"{srv.url}{path}", json=body)
            assert r.status_code == 200, r.text
            out = r.json()
            assert out["model_name"] == "churn" and out["model_version"] == "3"
            assert out["id"] == "req-1"
            assert out["outputs"][0]["shape"] == [3]
            assert out["outputs"][0]["data"] == expected
            assert out["outputs"][0]["datatype"] == "INT64"

        r = http.post(f"{srv.url}/v2/models/other/infer", json=body)
        assert r.status_code == 404 and "model 'other' not found" in r.json()["error"]
        r = http.post(f"{srv.url}/v2/models/churn/versions/9/infer", json=body)
        assert r.status_code == 404 and "version '9'" in r.json()["error"]
        bad = _oip_inputs([0.1, 0.2], [1, 2])
        bad["inputs"][0]["shape"] = [3]  # type: ignore[index]
        r = http.post(f"{srv.url}/v2/models/churn/infer", json=bad)
        assert r.status_code == 400
        assert r.json() == {"error": "input 'tenure': shape [3] needs 3 values, data has 2"}
        wrong_type = _oip_inputs([0.1], [1])
        wrong_type["inputs"][1]["datatype"] = "FP32"  # type: ignore[index]
        wrong_type["inputs"][1]["data"] = [1.5]  # type: ignore[index]
        r = http.post(f"{srv.url}/v2/models/churn/infer", json=wrong_type)
        assert r.status_code == 400 and "column 'calls'" in r.json()["error"]
        r = http.post(f"{srv.url}/v2/models/churn/infer", json={"inputs": [{"name": "tenure"}]})
        assert r.status_code == 400 and "missing shape, datatype, data" in r.json()["error"]


def test_invocations_formats(churn_model: LoadedModel, http: httpx.Client) -> None:
    x, _ = training_frame()
    rows = x[:4]
    expected = churn_model.raw.predict(rows).tolist()
    records = rows.to_dict(orient="records")
    bodies = [
        {"dataframe_split": {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}},
        {"dataframe_records": records},
        {"instances": records},
        {"inputs": records},
        {"instances": rows.to_numpy().tolist()},
    ]
    with AppServer(create_model_app(churn_model, name="churn", version=1)) as srv:
        for body in bodies:
            r = http.post(f"{srv.url}/invocations", json=body)
            assert r.status_code == 200, (body, r.text)
            assert r.json() == {"predictions": expected}
        r = http.post(f"{srv.url}/invocations", json=bodies[0], headers={"x-request-id": "abc"})
        assert r.headers["x-request-id"] == "abc"


def test_bad_input_is_a_clear_4xx_and_the_server_keeps_serving(
    churn_model: LoadedModel, http: httpx.Client
) -> None:
    config = ServingConfig(max_body_bytes=4096)
    good = {"dataframe_records": [{"tenure": 0.5, "calls": 2}]}
    cases: list[tuple[dict[str, object], int, str]] = [
        (
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
            "not valid JSON",
        ),
        (
            {"content": b"a,b\n1,2", "headers": {"content-type": "text/plain"}},
            415,
            "expected application/json or text/csv",
        ),
        ({"json": {"dataframe_records": [{"tenure": 0.5}]}}, 400, "missing column 'calls'"),
        (
            {"json": {"dataframe_records": [{"tenure": 0.5, "calls": 1, "x": 1}]}},
            400,
            "unexpected column 'x'",
        ),
        (
            {"json": {"dataframe_records": [{"tenure": "a", "calls": 1}]}},
            400,
            "column 'tenure' has type string",
        ),
        (
            {"json": {"dataframe_records": [{"tenure": None, "calls": 1}]}},
            400,
            "'tenure' holds missing values",
        ),
        ({"json": {"dataframe_split": [1, 2]}}, 400, "dataframe_split: expected"),
        ({"json": {"bogus": []}}, 400, "body: unknown key 'bogus'"),
        (
            {
                "content": b"[" + b"1," * 5000 + b"1]",
                "headers": {"content-type": "application/json"},
            },
            413,
            "larger than the limit of 4096 bytes",
        ),
    ]
    with AppServer(create_model_app(churn_model, name="churn", version=1, config=config)) as srv:
        for kwargs, status, message in cases:
            r = http.post(f"{srv.url}/invocations", **kwargs)  # type: ignore[arg-type]
            assert r.status_code == status, (kwargs, r.text)
            # MLflow's scoring server's shape, exactly.
            assert set(r.json()) == {"error_code", "message"}, r.text
            assert r.json()["error_code"] == "BAD_REQUEST", r.text
            assert message in r.json()["message"], r.text
            assert http.post(f"{srv.url}/invocations", json=good).status_code == 200
        r = http.get(f"{srv.url}/invocations")
        assert r.status_code == 405
        assert http.get(f"{srv.url}/nowhere").status_code == 404
        metrics = http.get(f"{srv.url}/metrics").text
        assert 'modelwright_serving_errors_total{error_class="client"} 11.0' in metrics
        assert 'modelwright_serving_requests_total{route="invocations",status="200"} 9.0' in metrics
        assert "modelwright_serving_request_seconds_bucket" in metrics


def test_tensor_signature(tmp_path: object, http: httpx.Client) -> None:
    from pathlib import Path

    from sklearn.linear_model import LogisticRegression
    from tests.serving.conftest import loaded, saved_model

    x = np.random.default_rng(1).normal(size=(40, 3))
    y = (x[:, 0] > 0).astype(int)
    path, digest = saved_model(LogisticRegression().fit(x, y), x[:2], Path(str(tmp_path)) / "t")
    model = loaded(path, digest)
    with AppServer(create_model_app(model, name="t", version=1)) as srv:
        body = {
            "inputs": [
                {
                    "name": "input",
                    "shape": [2, 3],
                    "datatype": "FP64",
                    "data": x[:2].reshape(-1).tolist(),
                }
            ]
        }
        r = http.post(f"{srv.url}/v2/models/t/infer", json=body)
        assert r.status_code == 200, r.text
        assert r.json()["outputs"][0]["data"] == model.raw.predict(x[:2]).tolist()
        body["inputs"][0]["shape"] = [3, 2]  # type: ignore[index]
        r = http.post(f"{srv.url}/v2/models/t/infer", json=body)
        assert (
            r.status_code == 400 and "shape (3, 2), the model expects (n, 3)" in r.json()["error"]
        )
        r = http.post(f"{srv.url}/invocations", json={"instances": [[1.0, 2.0]]})
        assert r.status_code == 400 and "instances[0]: has 2 values, 3 expected" in r.text
