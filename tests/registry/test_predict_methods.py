"""Prediction methods of a loaded model: ``predict_proba`` (one column per class, named by its
label) and ``decision_function`` as scikit-learn computes them, each method's output in the
signature, and a Python object wrapping an estimator not pickled silently."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelwright.client import Client
from modelwright.errors import InvalidInput
from modelwright.registry.artifact import Manifest
from modelwright.registry.signature import Signature, infer_schema

pytest.importorskip("sklearn")

from sklearn import datasets
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def _data(loader: Callable[..., Any]) -> tuple[pd.DataFrame, pd.Series]:
    frame = loader(as_frame=True).frame
    return frame.drop(columns=["target"]), frame["target"]


def _log(client: Client, name: str, model: Any, x: pd.DataFrame, **kwargs: Any) -> Any:
    with client.start_run(name, workspace="ml") as run:
        return run.log_model(model, name, input_example=x[:5], **kwargs)


@pytest.fixture
def ws(client: Client) -> str:
    client.create_workspace("ml")
    return "ml"


@pytest.mark.parametrize(
    ("loader", "classes"),
    [(datasets.load_breast_cancer, ["0", "1"]), (datasets.load_wine, ["0", "1", "2"])],
    ids=["binary", "multiclass"],
)
def test_probabilities_and_decisions_are_scikit_learns(
    client: Client, ws: str, loader: Callable[..., Any], classes: list[str]
) -> None:
    x, y = _data(loader)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)
    info = _log(client, "clf", model, x)
    # The signature records what each method returns.
    assert info.signature is not None
    methods = info.signature.methods
    assert list(methods) == ["predict", "predict_proba", "decision_function"]
    assert [c.name for c in methods["predict_proba"].columns] == classes
    assert {c.type for c in methods["predict_proba"].columns} == {"float"}

    loaded = client.load_model(info.uri, workspace=ws)
    assert loaded.methods == ["predict", "predict_proba", "decision_function"]
    rows = x[100:140]
    proba = loaded.predict_proba(rows)
    assert isinstance(proba, pd.DataFrame) and list(proba.columns) == classes
    np.testing.assert_array_equal(proba.to_numpy(), model.predict_proba(rows))
    assert loaded.predict(rows, method="predict_proba").equals(proba)
    decision = loaded.decision_function(rows)
    expected = model.decision_function(rows)
    if len(classes) == 2:  # one score per row, as scikit-learn gives it
        np.testing.assert_array_equal(decision, expected)
    else:
        assert list(decision.columns) == classes
        np.testing.assert_array_equal(decision.to_numpy(), expected)
    # scores(): the positive class's probability for two classes, every class's for more.
    scores = np.asarray(loaded.scores(rows))
    full = model.predict_proba(rows)
    np.testing.assert_array_equal(scores, full[:, 1] if len(classes) == 2 else full)
    np.testing.assert_array_equal(loaded.predict(rows), model.predict(rows))


def test_a_method_the_model_lacks_is_an_error_naming_the_field(client: Client, ws: str) -> None:
    x, y = _data(datasets.load_diabetes)
    info = _log(client, "reg", Ridge().fit(x, y), x)
    assert info.signature is not None and list(info.signature.methods) == ["predict"]
    loaded = client.load_model(info.uri, workspace=ws)
    with pytest.raises(InvalidInput) as lacks:
        loaded.predict_proba(x[:3])
    assert lacks.value.details["field"] == "method"
    assert "has no predict_proba (it has predict)" in lacks.value.message
    with pytest.raises(InvalidInput) as unknown:
        loaded.predict(x[:3], method="predict_probability")
    assert unknown.value.message.startswith(
        "method: unknown prediction method 'predict_probability' (one of predict, "
    )


def test_a_manifest_without_methods_keeps_its_bytes() -> None:
    """Versions saved before methods were recorded keep their digests."""
    schema = infer_schema(pd.DataFrame({"a": [1.0]}))
    bare = Manifest(flavor="sklearn", signature=Signature(inputs=schema), files=[]).to_bytes()
    assert b"methods" not in bare
    with_methods = Manifest(
        flavor="sklearn", signature=Signature(inputs=schema, methods={"predict": schema}), files=[]
    )
    assert json.loads(with_methods.to_bytes())["signature"]["methods"]["predict"]["kind"] == (
        "dataframe"
    )


class Wrapper:
    """A Python model around a scikit-learn estimator: pickled if logged as it is."""

    def __init__(self, clf: Any) -> None:
        self.clf = clf

    def predict(self, data: pd.DataFrame) -> Any:
        return self.clf.predict(data)


def log(client: Client, name: str, model: Any, x: pd.DataFrame, **kwargs: Any) -> Any:
    """``model`` logged as ``name`` in a run of workspace ``ml``, with ``x[:5]`` as example."""
    return _log(client, name, model, x, **kwargs)


def test_a_python_model_wrapping_an_estimator_is_not_pickled_silently(
    client: Client, ws: str
) -> None:
    x, y = _data(datasets.load_breast_cancer)
    clf = LogisticRegression(max_iter=5000).fit(x, y)
    with pytest.raises(InvalidInput) as refused:
        _log(client, "wrapped", Wrapper(clf), x)
    message = refused.value.message
    assert "wraps a scikit-learn estimator (in 'clf')" in message
    assert "stored as a pickle" in message and "allow_pickle=True" in message
    assert "Log the estimator itself (stored with skops, no pickle" in message
    assert list(client.list_models(ws)) == []
    # A function closing over one likewise.
    with pytest.raises(InvalidInput, match="wraps a scikit-learn estimator \\(in 'clf'\\)"):
        _log(client, "wrapped", lambda data: clf.predict(data) + 0, x)
    with pytest.raises(InvalidInput, match="wraps a scikit-learn estimator \\(in '__self__'\\)"):
        _log(client, "wrapped", clf.predict_proba, x)
    # Allowed explicitly: stored pickled, and the version says so.
    info = _log(client, "wrapped", Wrapper(clf), x, allow_pickle=True)
    assert info.flavor == "pyfunc" and info.describe["storage"] == "pickle"
    loaded = client.load_model(info.uri, workspace=ws)
    np.testing.assert_array_equal(loaded.predict(x[:5]), clf.predict(x[:5]))
    # The estimator alone: skops, no pickle.
    assert _log(client, "plain", clf, x).flavor == "sklearn"
