"""A model server answers the prediction method a deployment or a request chooses:
probabilities (one output per class, named by its label) and decision scores through
``/invocations`` (MLflow's ``params``) and the Open Inference Protocol (``parameters``),
exactly as scikit-learn computes them."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.serving.conftest import AppServer, loaded

from modelwright.endpoints.models import ServingConfig
from modelwright.errors import InvalidInput
from modelwright.registry.artifact import save_dir
from modelwright.registry.flavors import flavor_for
from modelwright.registry.predict import LoadedModel, method_outputs
from modelwright.registry.signature import infer_signature
from modelwright.serving import create_model_app

pytest.importorskip("sklearn")

from sklearn import datasets
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

triton = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402


def _data(loader: Callable[..., Any]) -> tuple[pd.DataFrame, pd.Series]:
    frame = loader(as_frame=True).frame
    return frame.drop(columns=["target"]), frame["target"]


def _saved(model: Any, x: pd.DataFrame, path: Path) -> LoadedModel:
    """``model`` saved as ``log_model`` saves it (each method's output in the signature)."""
    example = x[:5]
    predicted = model.predict(example)
    outputs = method_outputs(flavor_for(model), model, example, predicted)
    _, data = save_dir(model, path, signature=infer_signature(example, predicted, outputs))
    return loaded(path, hashlib.sha256(data).hexdigest())


def _classifier(loader: Callable[..., Any], path: Path) -> tuple[Any, LoadedModel, pd.DataFrame]:
    x, y = _data(loader)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    return model, _saved(model, x, path), x


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, LoadedModel, pd.DataFrame]:
    return _classifier(datasets.load_breast_cancer, tmp_path_factory.mktemp("bc") / "m")


@pytest.fixture(scope="module")
def multiclass(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, LoadedModel, pd.DataFrame]:
    return _classifier(datasets.load_wine, tmp_path_factory.mktemp("wine") / "m")


def _split(rows: pd.DataFrame) -> dict[str, Any]:
    return {"dataframe_split": {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}}


def _records(array: np.ndarray, labels: list[str]) -> list[dict[str, float]]:
    return [dict(zip(labels, map(float, row), strict=True)) for row in array]


def _invoke(url: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{url}/invocations", json=body, timeout=30)


@pytest.mark.parametrize("which", ["binary", "multiclass"])
def test_invocations_answer_the_method_each_request_asks_for(
    request: pytest.FixtureRequest, which: str
) -> None:
    model, served, x = request.getfixturevalue(which)
    labels = [str(c) for c in model.classes_]
    rows = x[40:52]
    with AppServer(create_model_app(served, name="clf", version=1)) as server:
        r = _invoke(server.url, _split(rows))
        assert r.status_code == 200, r.text
        assert r.json()["predictions"] == model.predict(rows).tolist()
        r = _invoke(server.url, {**_split(rows), "params": {"method": "predict_proba"}})
        assert r.status_code == 200, r.text
        assert r.json()["predictions"] == _records(model.predict_proba(rows), labels)
        # MLflow's other spelling, and records in: the same answer.
        records = {"dataframe_records": rows.to_dict(orient="records")}
        r = _invoke(server.url, {**records, "params": {"predict_method": "predict_proba"}})
        assert r.json()["predictions"] == _records(model.predict_proba(rows), labels)
        r = _invoke(server.url, {**_split(rows), "params": {"method": "decision_function"}})
        assert r.status_code == 200, r.text
        decision = model.decision_function(rows)
        expected = decision.tolist() if decision.ndim == 1 else _records(decision, labels)
        assert r.json()["predictions"] == expected
        r = _invoke(server.url, {**_split(rows), "params": {"method": "proba"}})
        assert r.status_code == 400
        assert r.json() == {
            "error_code": "BAD_REQUEST",
            "message": "params.method: unknown prediction method 'proba' (one of predict, "
            "predict_proba, decision_function)",
        }


def test_a_deployment_answers_its_method_and_batches_requests_by_method(
    multiclass: tuple[Any, LoadedModel, pd.DataFrame],
) -> None:
    model, served, x = multiclass
    labels = [str(c) for c in model.classes_]
    config = ServingConfig(method="predict_proba", max_batch_size=16, max_latency_ms=50)
    with AppServer(create_model_app(served, name="wine", version=1, config=config)) as server:
        meta = httpx.get(f"{server.url}/v2/models/wine", timeout=30).json()
        assert [o["name"] for o in meta["outputs"]] == labels

        async def ask_all() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=30) as client:
                calls = []
                for i in range(12):
                    params = {"params": {"method": "predict"}} if i % 3 == 0 else {}
                    body = {**_split(x[i * 5 : i * 5 + 5]), **params}
                    calls.append(client.post(f"{server.url}/invocations", json=body))
                return list(await asyncio.gather(*calls))

        for i, r in enumerate(asyncio.run(ask_all())):
            assert r.status_code == 200, r.text
            rows = x[i * 5 : i * 5 + 5]
            if i % 3 == 0:
                assert r.json()["predictions"] == model.predict(rows).tolist()
            else:
                assert r.json()["predictions"] == _records(model.predict_proba(rows), labels)


def test_a_method_the_model_lacks_is_a_4xx_naming_the_field(tmp_path: Path) -> None:
    x, y = _data(datasets.load_diabetes)
    served = _saved(Ridge().fit(x, y), x, tmp_path / "ridge")
    with pytest.raises(InvalidInput) as refused:
        create_model_app(served, name="r", version=1, config=ServingConfig(method="predict_proba"))
    assert refused.value.message == (
        "config.method: this Ridge model has no predict_proba (it has predict)"
    )
    with AppServer(create_model_app(served, name="r", version=1)) as server:
        r = _invoke(server.url, {**_split(x[:3]), "params": {"method": "predict_proba"}})
        assert r.status_code == 400
        assert r.json()["message"] == (
            "params.method: this model has no predict_proba (it has predict)"
        )
        infer = {
            "inputs": [{"name": "input", "shape": [3, 10], "datatype": "FP64",
                        "data": x[:3].to_numpy().ravel().tolist()}],
            "parameters": {"method": "predict_proba"},
        }  # fmt: skip
        r = httpx.post(f"{server.url}/v2/models/r/infer", json=infer, timeout=30)
        assert r.status_code == 400
        assert r.json() == {
            "error": "parameters.method: this model has no predict_proba (it has predict)"
        }


@pytest.fixture
def wine_server(multiclass: tuple[Any, LoadedModel, pd.DataFrame]) -> Iterator[str]:
    _, served, _ = multiclass
    with AppServer(create_model_app(served, name="wine", version=1)) as server:
        yield server.url


@pytest.mark.parametrize("binary_data", [False, True], ids=["json", "binary"])
def test_tritonclient_gets_probabilities_per_class(
    wine_server: str, multiclass: tuple[Any, LoadedModel, pd.DataFrame], binary_data: bool
) -> None:
    model, _, x = multiclass
    labels = [str(c) for c in model.classes_]
    rows = x[60:75]
    client = triton.InferenceServerClient(
        url=wine_server.removeprefix("http://"), network_timeout=30
    )
    try:
        meta = client.get_model_metadata("wine")
        assert [o["name"] for o in meta["outputs"]] == ["predict"]
        inputs = []
        for spec in meta["inputs"]:
            tensor = triton.InferInput(spec["name"], [len(rows)], spec["datatype"])
            tensor.set_data_from_numpy(rows[spec["name"]].to_numpy(), binary_data=binary_data)
            inputs.append(tensor)
        outputs = [triton.InferRequestedOutput(label, binary_data=binary_data) for label in labels]
        result = client.infer(
            "wine", inputs, outputs=outputs, parameters={"method": "predict_proba"}
        )
        proba = model.predict_proba(rows)
        for i, label in enumerate(labels):
            np.testing.assert_array_equal(result.as_numpy(label), proba[:, i])
        result = client.infer("wine", inputs, parameters={"method": "decision_function"})
        decision = model.decision_function(rows)
        for i, label in enumerate(labels):
            np.testing.assert_array_equal(result.as_numpy(label), decision[:, i])
        # Without the parameter: the deployment's method, predict.
        result = client.infer("wine", inputs)
        np.testing.assert_array_equal(result.as_numpy("predict"), model.predict(rows))
        # An output predict_proba does not give is refused before predicting.
        with pytest.raises(InferenceServerException) as refused:
            client.infer(
                "wine",
                inputs,
                outputs=[triton.InferRequestedOutput("predict")],
                parameters={"method": "predict_proba"},
            )
        assert refused.value.status() == "400"
        assert "unknown output 'predict' (this model has: 0, 1, 2)" in str(refused.value)
        with pytest.raises(InferenceServerException) as unknown:
            client.infer("wine", inputs, parameters={"method": "proba"})
        assert unknown.value.status() == "400"
        assert "parameters.method: unknown prediction method 'proba'" in str(unknown.value)
    finally:
        client.close()
