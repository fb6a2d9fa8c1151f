"""Batch inference of a chosen prediction method: probabilities (one column per class, named by
its label) and decision scores of the breast-cancer and wine models, as scikit-learn computes
them; a method the model lacks is refused before anything runs, naming the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.batch.conftest import Result

import modelwright
from modelwright.batch import run_batch
from modelwright.client import Client
from modelwright.errors import InvalidInput

pytest.importorskip("sklearn")

from sklearn import datasets
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def _world(client: Client, lake: Path, loader: Callable[..., Any], model: Any) -> pd.DataFrame:
    """Workspace ``ml``: the dataset as ``rows@v1`` (with an ``id`` column) and ``model``,
    fitted on it, as ``clf`` v1."""
    frame = loader(as_frame=True).frame
    x, y = frame.drop(columns=["target"]), frame["target"]
    model.fit(x, y)
    client.create_workspace("ml")
    client.create_datastore("ml", "dev", "lake", str(lake))
    client.register_dataset(
        "rows", x.assign(id=np.arange(len(x))), workspace="ml", environment="dev"
    )
    with client.start_run("train", workspace="ml", environment="dev", snapshot=False) as run:
        run.log_model(model, "clf", input_example=x.head(5))
    return x


def _classifier() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def _scores(client: Client) -> pd.DataFrame:
    out = client.load_dataset("scores@latest", workspace="ml", environment="dev")
    assert isinstance(out, pd.DataFrame)
    return out.sort_values("id").reset_index(drop=True)


@pytest.mark.parametrize(
    ("loader", "workers"),
    [(datasets.load_breast_cancer, 1), (datasets.load_wine, 2)],
    ids=["binary", "multiclass"],
)
def test_probabilities_per_class_named_by_label(
    client: Client, tmp_path: Path, loader: Callable[..., Any], workers: int
) -> None:
    model = _classifier()
    x = _world(client, tmp_path / "lake", loader, model)
    labels = [str(c) for c in model.classes_]
    result = run_batch(
        client,
        "models:/clf/1",
        "rows@v1",
        "scores",
        workspace="ml",
        id_column="id",
        chunk_rows=50,
        workers=workers,
        method="predict_proba",
    )
    assert result.failed_rows == 0 and result.rows == len(x)
    out = _scores(client)
    assert list(out.columns) == ["id", *labels, "_error"]
    # Chunk by chunk: the same values to the last bits floating-point sums leave free.
    np.testing.assert_allclose(out[labels].to_numpy(), model.predict_proba(x), rtol=1e-12)
    assert client.get_run(result.run_id).params["method"] == "predict_proba"
    # Decision scores: one column per class for three, one score per row for two.
    run_batch(
        client, "models:/clf/1", "rows@v1", "scores", workspace="ml", id_column="id",
        method="decision_function", executor="inline",
    )  # fmt: skip
    out = _scores(client)
    decision = model.decision_function(x)
    if decision.ndim == 1:
        np.testing.assert_allclose(out["prediction"].to_numpy(), decision, rtol=1e-12)
    else:
        np.testing.assert_allclose(out[labels].to_numpy(), decision, rtol=1e-12)


def test_a_method_the_model_lacks_is_refused_before_anything_runs(
    client: Client, tmp_path: Path
) -> None:
    _world(client, tmp_path / "lake", datasets.load_diabetes, Ridge())
    with pytest.raises(InvalidInput) as lacks:
        run_batch(client, "models:/clf/1", "rows@v1", "scores", workspace="ml",
                  method="predict_proba")  # fmt: skip
    assert lacks.value.message == "method: models:/clf/1 has no predict_proba (it has predict)"
    with pytest.raises(InvalidInput) as unknown:
        run_batch(client, "models:/clf/1", "rows@v1", "scores", workspace="ml", method="proba")
    assert unknown.value.details["field"] == "method"
    assert client.search_runs(workspace="ml", experiment="batch") == []


def test_batch_run_method_from_the_cli(cli: Callable[..., Result], tmp_path: Path) -> None:
    model = _classifier()
    with modelwright.connect(tmp_path / "home") as client:
        x = _world(client, tmp_path / "lake", datasets.load_wine, model)
    args = ["batch", "run", "models:/clf/1", "--input", "rows@v1", "-w", "ml", "--output"]
    done = cli(*args, "scores", "--id-column", "id", "--method", "predict_proba", "--json")
    assert done.code == 0, done.err
    assert json.loads(done.out)["rows"] == len(x)
    with modelwright.connect(tmp_path / "home") as client:
        out = _scores(client)
    np.testing.assert_allclose(out[["0", "1", "2"]].to_numpy(), model.predict_proba(x), rtol=1e-12)
    bad = cli(*args, "scores", "--method", "predict_probability")
    assert bad.code == 1
    assert "method: unknown prediction method 'predict_probability'" in bad.err
    assert len(bad.err.strip().splitlines()) == 1
