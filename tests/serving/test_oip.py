"""The Open Inference Protocol works with tritonclient unchanged (JSON and binary tensors),
and refuses lossy or mistyped tensors with a 400 naming the input."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import orjson
import pytest
from tests.serving.conftest import AppServer, training_frame

from modelwright.endpoints.models import InvokeDecision
from modelwright.errors import InvalidInput
from modelwright.registry.predict import LoadedModel
from modelwright.serving import create_model_app
from modelwright.serving.oip import read_request
from modelwright.serving.router import (
    Authorizer,
    EndpointRoute,
    RouterApp,
    RouterMetrics,
    Upstream,
)

triton = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException, serialize_byte_tensor  # noqa: E402

INFER = "/v2/models/churn/infer"


@pytest.fixture
def endpoint(churn_model: LoadedModel) -> Iterator[dict[str, str]]:
    """The churn model behind a router: {"server": model server URL, "router": the
    endpoint's base URL on the router}."""

    async def ask(token: str) -> InvokeDecision:
        return InvokeDecision(principal="p", allowed=True, status=200, reason="granted")

    with AppServer(create_model_app(churn_model, name="churn", version=1)) as server:
        router = RouterApp("ml", "dev", Authorizer(ask, require_token=False), RouterMetrics())
        router.update(
            {
                "churn": EndpointRoute(
                    name="churn",
                    generation=1,
                    deployments={"blue": Upstream.connect("blue", server.url, 1 << 20)},
                    weights={"blue": 100},
                )
            }
        )
        with AppServer(router) as front:
            yield {"server": server.url, "router": f"{front.url}/endpoints/ml/dev/churn"}


def _client(base: str) -> Any:
    return triton.InferenceServerClient(url=base.removeprefix("http://"), network_timeout=30)


@pytest.mark.parametrize("binary", [False, True], ids=["json", "binary"])
@pytest.mark.parametrize("via", ["server", "router"])
def test_tritonclient_gets_the_models_answers(
    endpoint: dict[str, str], churn_model: LoadedModel, via: str, binary: bool
) -> None:
    x, _ = training_frame()
    rows = x[:7]
    expected = churn_model.raw.predict(rows)
    client = _client(endpoint[via])
    try:
        assert client.is_server_live() and client.is_model_ready("churn")
        meta = client.get_model_metadata("churn")
        assert [o["name"] for o in meta["outputs"]] == ["predict"]
        # One tensor per column, as the metadata advertises them.
        inputs = []
        for spec in meta["inputs"]:
            column = rows[spec["name"]].to_numpy()
            tensor = triton.InferInput(spec["name"], [len(rows)], spec["datatype"])
            tensor.set_data_from_numpy(column, binary_data=binary)
            inputs.append(tensor)
        outputs = [triton.InferRequestedOutput("predict", binary_data=binary)]
        result = client.infer("churn", inputs, outputs=outputs, request_id="req-7")
        assert np.array_equal(result.as_numpy("predict"), expected)
        assert result.get_response()["id"] == "req-7"
        # No outputs named: tritonclient asks for all of them, in binary.
        result = client.infer("churn", inputs)
        assert np.array_equal(result.as_numpy("predict"), expected)
        # The whole table as one [n, k] tensor, columns in the signature's order.
        table = triton.InferInput("input", [len(rows), 2], "FP64")
        table.set_data_from_numpy(rows.to_numpy(dtype=np.float64), binary_data=binary)
        result = client.infer("churn", [table], outputs=outputs)
        assert np.array_equal(result.as_numpy("predict"), expected)
        # An output the model does not have is refused before predicting.
        with pytest.raises(InferenceServerException) as refused:
            client.infer("churn", inputs, outputs=[triton.InferRequestedOutput("proba")])
        assert refused.value.status() == "400"
        assert "outputs[0]: unknown output 'proba' (this model has: predict)" in str(refused.value)
    finally:
        client.close()


def _post(url: str, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return httpx.post(url, content=content, headers=headers, timeout=30)


def _inputs(tenure: dict[str, Any], calls: dict[str, Any]) -> dict[str, Any]:
    base = [
        {"name": "tenure", "shape": [1], "datatype": "FP64", "data": [0.4]},
        {"name": "calls", "shape": [1], "datatype": "INT64", "data": [1]},
    ]
    return {"inputs": [{**base[0], **tenure}, {**base[1], **calls}]}


MISTYPED: list[tuple[str, dict[str, Any], str]] = [
    (
        "a fraction in an INT64 tensor",
        _inputs({}, {"data": [1.5]}),
        "input 'calls': INT64 holds whole numbers, got 1.5 at position 0",
    ),
    (
        "a string in an FP64 tensor",
        _inputs({"data": ["0.4"]}, {}),
        "input 'tenure': FP64 data holds a string ('0.4') at position 0",
    ),
    (
        "a boolean in an FP64 tensor",
        _inputs({"data": [True]}, {}),
        "input 'tenure': FP64 data holds a boolean (True) at position 0",
    ),
    (
        "a boolean in an INT64 tensor",
        _inputs({}, {"data": [False]}),
        "input 'calls': INT64 data holds a boolean (False) at position 0",
    ),
    (
        "null in a tensor",
        _inputs({"data": [None]}, {}),
        "input 'tenure': FP64 data holds null (None) at position 0",
    ),
    (
        "a boolean in a shape",
        _inputs({"shape": [True]}, {}),
        "input 'tenure': shape must be a list of non-negative integers",
    ),
    (
        "a value out of INT8's range",
        _inputs({}, {"datatype": "INT8", "data": [300]}),
        "input 'calls': 300 at position 0 is out of INT8's range",
    ),
    (
        "a value out of FP16's range",
        _inputs({"datatype": "FP16", "data": [1e300]}, {}),
        "input 'tenure': 1e+300 at position 0 is out of FP16's range",
    ),
    (
        "an unknown datatype",
        _inputs({"datatype": "BF16"}, {}),
        "input 'tenure': unknown datatype 'BF16'",
    ),
    (
        "a list for a datatype",
        _inputs({"datatype": ["FP64"]}, {}),
        "input 'tenure': unknown datatype ['FP64']",
    ),
    ("an id that is not a string", {**_inputs({}, {}), "id": 7}, "id: expected a string"),
    (
        "an unknown output",
        {**_inputs({}, {}), "outputs": [{"name": "x"}]},
        "outputs[0]: unknown output 'x'",
    ),
    (
        "a classification request",
        {**_inputs({}, {}), "outputs": [{"name": "predict", "parameters": {"classification": 2}}]},
        "outputs[0].parameters.classification: not supported",
    ),
]


@pytest.mark.parametrize(("what", "body", "message"), MISTYPED, ids=[m[0] for m in MISTYPED])
@pytest.mark.parametrize("via", ["server", "router"])
def test_lossy_or_mistyped_tensors_are_a_400_naming_the_input(
    endpoint: dict[str, str], via: str, what: str, body: dict[str, Any], message: str
) -> None:
    r = _post(f"{endpoint[via]}{INFER}", body)
    assert r.status_code == 400, (what, r.text)
    assert r.json() == {"error": r.json()["error"]} and r.json()["error"].startswith(message), (
        r.json()["error"]
    )


def test_json_without_a_content_type_is_read_and_the_id_echoed_as_given(
    endpoint: dict[str, str],
) -> None:
    for request_id in ("007", "", "a b"):
        r = _post(f"{endpoint['router']}{INFER}", {**_inputs({}, {}), "id": request_id})
        assert r.status_code == 200, r.text
        assert r.json()["id"] == request_id and r.json()["outputs"][0]["data"] == [1]
    r = _post(f"{endpoint['router']}{INFER}", _inputs({}, {}), **{"content-type": "text/csv"})
    assert r.status_code == 415 and "content type: expected application/json" in r.json()["error"]


def _binary_request(values: bytes, size: int, header: str | None = None) -> tuple[bytes, str]:
    head = orjson.dumps(
        {
            "inputs": [
                {"name": "tenure", "shape": [1], "datatype": "FP64", "data": [0.4]},
                {
                    "name": "calls",
                    "shape": [1],
                    "datatype": "INT64",
                    "parameters": {"binary_data_size": size},
                },
            ]
        }
    )
    return head + values, header if header is not None else str(len(head))


@pytest.mark.parametrize(
    ("values", "size", "header", "message"),
    [
        (struct.pack("<q", 1), 8, None, ""),
        (struct.pack("<i", 1), 4, None, "input 'calls': binary_data_size is 4 bytes, 1 INT64"),
        (struct.pack("<q", 1), 16, None, "input 'calls': binary_data_size is 16 bytes, only 8"),
        (struct.pack("<qq", 1, 2), 8, None, "body: 8 bytes of binary data follow the JSON"),
        (struct.pack("<q", 1), 8, "99999", "Inference-Header-Content-Length: expected a length"),
        (struct.pack("<q", 1), 8, "-1", "Inference-Header-Content-Length: expected a length"),
        (struct.pack("<q", 1), -8, None, "input 'calls': parameters.binary_data_size must be"),
    ],
)
def test_binary_tensors_are_read_as_the_extension_describes(
    endpoint: dict[str, str], values: bytes, size: int, header: str | None, message: str
) -> None:
    body, length = _binary_request(values, size, header)
    r = _post(f"{endpoint['router']}{INFER}", body, **{"inference-header-content-length": length})
    if not message:
        assert r.status_code == 200 and r.json()["outputs"][0]["data"] == [1], r.text
    else:
        assert r.status_code == 400 and r.json()["error"].startswith(message), r.text


def test_binary_bytes_tensors_are_length_prefixed_utf8() -> None:
    words = np.array([b"ab", "é".encode(), b""], dtype=np.object_)
    raw = serialize_byte_tensor(words).item()
    head = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "w",
                    "shape": [3],
                    "datatype": "BYTES",
                    "parameters": {"binary_data_size": len(raw)},
                }
            ]
        }
    )
    request = read_request(head + raw, str(len(head)))
    assert request.tensors[0][1].tolist() == ["ab", "é", ""]
    for broken, problem in (
        (raw[:-5], "BYTES element 1 is 2 bytes, only 1 are left"),
        (raw[:-1], "BYTES data ends inside a length prefix"),
        (raw[:2], "BYTES data ends inside a length prefix"),
        (struct.pack("<I", 1) + b"\xff" + raw[5:], "BYTES element 0 is not UTF-8"),
    ):
        head = orjson.dumps(
            {
                "inputs": [
                    {
                        "name": "w",
                        "shape": [3],
                        "datatype": "BYTES",
                        "parameters": {"binary_data_size": len(broken)},
                    }
                ]
            }
        )
        with pytest.raises(InvalidInput, match=problem):
            read_request(head + broken, str(len(head)))
