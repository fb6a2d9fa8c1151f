"""Whatever JSON a caller sends to /invocations or to the Open Inference Protocol's infer, the
model server answers below 500, in the route's error shape (generated with Hypothesis)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.serving.conftest import AppServer, loaded, saved_model, training_frame

from modelwright.registry.predict import LoadedModel
from modelwright.serving import create_model_app
from modelwright.serving.oip import DATATYPES

# Bounded and repeatable: a few seconds, the same examples on every run.
BOUNDED = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FORMATS = ["dataframe_split", "dataframe_records", "instances", "inputs"]
NAMES = st.sampled_from(["tenure", "calls", "input", "x", ""])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
)
junk = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=4), st.sampled_from(FORMATS)), inner, max_size=3
        ),
    ),
    max_leaves=12,
)


def mostly(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` most of the time, junk now and then: deep checks get reached."""
    return st.integers(0, 3).flatmap(lambda i: junk if i == 3 else valid)


cell = st.one_of(st.floats(-3, 3), st.integers(-3, 3), scalars, junk)
row = st.lists(mostly(cell), min_size=0, max_size=4)
rows = st.lists(mostly(row), min_size=0, max_size=3)
record = st.dictionaries(NAMES, mostly(cell), max_size=3)
records = st.lists(mostly(record), max_size=3)
columns = st.dictionaries(NAMES, mostly(st.lists(mostly(cell), max_size=3)), max_size=3)
split = st.fixed_dictionaries(
    {"data": mostly(rows)},
    optional={"columns": mostly(st.lists(NAMES, max_size=3)), "index": junk},
)
payload = st.one_of(
    st.builds(lambda v: {"dataframe_split": v}, mostly(split)),
    st.builds(lambda v: {"dataframe_records": v}, mostly(records)),
    st.builds(lambda v: {"instances": v}, st.one_of(rows, records, columns, junk)),
    st.builds(lambda v: {"inputs": v}, st.one_of(rows, records, columns, junk)),
)
invocation = st.one_of(
    junk,
    payload,
    st.builds(
        lambda p, params: {**p, "params": params},
        payload,
        st.one_of(junk, st.dictionaries(st.sampled_from(["method", "x"]), junk)),
    ),
    st.builds(lambda a, b: {**a, **b}, payload, payload),
)
tensor = st.fixed_dictionaries(
    {
        "name": mostly(NAMES),
        "shape": mostly(
            st.lists(st.one_of(st.integers(0, 3), st.integers(-2, 4), st.booleans()), max_size=3)
        ),
        "datatype": mostly(st.sampled_from([*DATATYPES, "BF16", "x"])),
        "data": mostly(st.lists(mostly(cell), max_size=6)),
    },
    optional={
        "parameters": st.one_of(
            junk,
            st.fixed_dictionaries(
                {}, optional={"binary_data_size": mostly(st.integers(-4, 40)), "binary_data": junk}
            ),
        )
    },
)
requested = st.fixed_dictionaries(
    {"name": mostly(st.sampled_from(["predict", "x"]))},
    optional={
        "parameters": mostly(
            st.fixed_dictionaries({}, optional={"binary_data": junk, "classification": junk})
        )
    },
)
inference = mostly(
    st.fixed_dictionaries(
        {"inputs": mostly(st.lists(mostly(tensor), min_size=1, max_size=3))},
        optional={
            "outputs": mostly(st.lists(mostly(requested), max_size=2)),
            "id": mostly(st.text(max_size=3)),
            "parameters": mostly(st.fixed_dictionaries({}, optional={"binary_data_output": junk})),
        },
    )
)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A table model and a tensor model on real servers: {name: base URL}."""
    from sklearn.linear_model import LogisticRegression

    base = Path(tmp_path_factory.mktemp("models"))
    x, y = training_frame()
    table = loaded(*saved_model(LogisticRegression().fit(x, y), x[:5], base / "table"))
    arrays = np.random.default_rng(1).normal(size=(40, 3))
    tensor_model = loaded(
        *saved_model(
            LogisticRegression().fit(arrays, (arrays[:, 0] > 0).astype(int)),
            arrays[:2],
            base / "tensor",
        )
    )
    models: dict[str, LoadedModel] = {"tenure": table, "input": tensor_model}
    with (
        AppServer(create_model_app(models["tenure"], name="churn", version=1)) as a,
        AppServer(create_model_app(models["input"], name="t", version=1)) as b,
    ):
        yield {"churn": a.url, "t": b.url}


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


def _post(http: httpx.Client, url: str, body: Any) -> httpx.Response:
    # json.dumps, not orjson: it also writes integers past 64 bits, NaN and Infinity.
    data = json.dumps(body).encode()
    return http.post(url, content=data, headers={"content-type": "application/json"})


@pytest.mark.parametrize("model", ["churn", "t"])
def test_no_invocations_body_is_a_5xx(
    servers: dict[str, str], http: httpx.Client, model: str
) -> None:
    @BOUNDED
    @given(body=invocation)
    def check(body: Any) -> None:
        r = _post(http, f"{servers[model]}/invocations", body)
        assert r.status_code < 500, (body, r.text)
        if r.status_code != 200:
            assert r.json()["error_code"] == "BAD_REQUEST" and r.json()["message"], r.text

    check()


@pytest.mark.parametrize("model", ["churn", "t"])
def test_no_infer_body_is_a_5xx(servers: dict[str, str], http: httpx.Client, model: str) -> None:
    @BOUNDED
    @given(body=inference)
    def check(body: Any) -> None:
        r = _post(http, f"{servers[model]}/v2/models/{model}/infer", body)
        assert r.status_code < 500, (body, r.text)
        if r.status_code != 200:
            assert isinstance(r.json()["error"], str) and r.json()["error"], r.text

    check()


@pytest.mark.parametrize("model", ["churn", "t"])
def test_no_binary_infer_body_is_a_5xx(
    servers: dict[str, str], http: httpx.Client, model: str
) -> None:
    @BOUNDED
    @given(body=inference, tail=st.binary(max_size=24), shift=st.integers(-3, 3))
    def check(body: Any, tail: bytes, shift: int) -> None:
        head = json.dumps(body).encode()
        r = http.post(
            f"{servers[model]}/v2/models/{model}/infer",
            content=head + tail,
            headers={"inference-header-content-length": str(len(head) + shift)},
        )
        assert r.status_code < 500, (body, tail, shift, r.text)
        if r.status_code != 200:
            assert isinstance(r.json()["error"], str) and r.json()["error"], r.text

    check()
