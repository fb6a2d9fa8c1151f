"""Leaderboards on scikit-learn's bundled datasets: each task's metrics as ``sklearn.metrics``
computes them, metrics that do not fit the task refused, a user's own metric by import path,
and versions whose runs did not log the metric said so."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from modelwright.client import Client
from modelwright.errors import InvalidInput, PermissionDenied

pytest.importorskip("sklearn")

from sklearn import datasets, metrics
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

Unchanged = Callable[[], AbstractContextManager[None]]


@pytest.fixture
def ws(client: Client, tmp_path: Path) -> str:
    client.create_workspace("ml")
    client.create_datastore("ml", "dev", "lake", str(tmp_path / "lake"))
    return "ml"


def _split(loader: Callable[..., Any], columns: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows and a holdout (with its ``target`` column) of a bundled dataset."""
    frame = loader(as_frame=True).frame
    features = [c for c in frame.columns if c != "target"][:columns]
    frame = frame[[*features, "target"]].sample(frac=1.0, random_state=0).reset_index(drop=True)
    cut = int(len(frame) * 0.7)
    return frame[:cut], frame[cut:].reset_index(drop=True)


def _register(client: Client, ws: str, name: str, models: list[Any], train: pd.DataFrame) -> None:
    x, y = train.drop(columns=["target"]), train["target"]
    for model in models:
        with client.start_run(name, workspace=ws) as run:
            run.log_model(model.fit(x, y), name, input_example=x[:5])


def _values(entries: list[Any]) -> dict[int, float]:
    return {e.version: e.value for e in entries}


def test_binary_metrics_on_breast_cancer_are_sklearn_s(client: Client, ws: str) -> None:
    train, holdout = _split(datasets.load_breast_cancer, 6)
    models = [
        make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500)) for c in (0.01, 1.0)
    ]
    _register(client, ws, "cancer", models, train)
    client.register_dataset("cancer-holdout", holdout, workspace=ws, environment="dev")
    x, y = holdout.drop(columns=["target"]), holdout["target"]
    expected = {
        "roc_auc": lambda m: metrics.roc_auc_score(y, m.predict_proba(x)[:, 1]),
        "log_loss": lambda m: metrics.log_loss(y, m.predict_proba(x)),
        "f1": lambda m: metrics.f1_score(y, m.predict(x)),
        "precision": lambda m: metrics.precision_score(y, m.predict(x)),
        "recall": lambda m: metrics.recall_score(y, m.predict(x)),
        "accuracy": lambda m: metrics.accuracy_score(y, m.predict(x)),
    }
    for metric, compute in expected.items():
        ranked = client.leaderboard(
            "cancer", metric, dataset="cancer-holdout@v1", label="target", workspace=ws
        )
        want = {v: compute(m) for v, m in enumerate(models, 1)}
        assert _values(ranked) == pytest.approx(want), metric
    # log loss: lower is better, so the better-calibrated version ranks first
    ranked = client.leaderboard("cancer", "log_loss", dataset="cancer-holdout@v1", workspace=ws)
    assert ranked[0].value == min(e.value for e in ranked)


def test_multiclass_metrics_on_wine_and_binary_ones_refused(client: Client, ws: str) -> None:
    train, holdout = _split(datasets.load_wine, 5)
    models = [
        make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500)) for c in (0.05, 1.0)
    ]
    _register(client, ws, "wine", models, train)
    client.register_dataset("wine-holdout", holdout, workspace=ws, environment="dev")
    x, y = holdout.drop(columns=["target"]), holdout["target"]
    expected = {
        "accuracy": lambda m: metrics.accuracy_score(y, m.predict(x)),
        "f1_macro": lambda m: metrics.f1_score(y, m.predict(x), average="macro"),
        "f1_micro": lambda m: metrics.f1_score(y, m.predict(x), average="micro"),
        "f1_weighted": lambda m: metrics.f1_score(y, m.predict(x), average="weighted"),
        "precision_macro": lambda m: metrics.precision_score(y, m.predict(x), average="macro"),
        "recall_weighted": lambda m: metrics.recall_score(y, m.predict(x), average="weighted"),
        "roc_auc_ovr": lambda m: metrics.roc_auc_score(y, m.predict_proba(x), multi_class="ovr"),
        "log_loss": lambda m: metrics.log_loss(y, m.predict_proba(x)),
    }
    for metric, compute in expected.items():
        ranked = client.leaderboard("wine", metric, dataset="wine-holdout@v1", workspace=ws)
        assert _values(ranked) == pytest.approx({v: compute(m) for v, m in enumerate(models, 1)}), (
            metric
        )
    loaded = client.load_model("models:/wine/2", workspace=ws)
    assert loaded.scores(x).shape == (len(x), 3)  # every class's probability
    for metric in ("f1", "auc", "precision"):
        with pytest.raises(
            InvalidInput,
            match=rf"{metric} does not apply to a multiclass model \(3 classes\).*f1_macro",
        ):
            client.leaderboard("wine", metric, dataset="wine-holdout@v1", workspace=ws)
    with pytest.raises(InvalidInput, match="rmse does not apply to a multiclass model"):
        client.leaderboard("wine", "rmse", dataset="wine-holdout@v1", workspace=ws)


def test_regression_metrics_on_diabetes_and_classification_ones_refused(
    client: Client, ws: str
) -> None:
    train, holdout = _split(datasets.load_diabetes, 4)
    models = [LinearRegression(), Ridge(alpha=10.0)]
    _register(client, ws, "diabetes", models, train)
    client.register_dataset("diabetes-holdout", holdout, workspace=ws, environment="dev")
    x, y = holdout.drop(columns=["target"]), holdout["target"]
    expected = {
        "r2": lambda m: metrics.r2_score(y, m.predict(x)),
        "rmse": lambda m: metrics.root_mean_squared_error(y, m.predict(x)),
        "mse": lambda m: metrics.mean_squared_error(y, m.predict(x)),
        "mae": lambda m: metrics.mean_absolute_error(y, m.predict(x)),
        "mape": lambda m: metrics.mean_absolute_percentage_error(y, m.predict(x)),
    }
    for metric, compute in expected.items():
        ranked = client.leaderboard("diabetes", metric, dataset="diabetes-holdout@v1", workspace=ws)
        assert _values(ranked) == pytest.approx({v: compute(m) for v, m in enumerate(models, 1)}), (
            metric
        )
        best = max if metric == "r2" else min
        assert ranked[0].value == best(e.value for e in ranked), metric
    for metric in ("accuracy", "f1_macro", "roc_auc", "log_loss"):
        with pytest.raises(
            InvalidInput, match=rf"{metric} does not apply to a regression model.*r2"
        ):
            client.leaderboard("diabetes", metric, dataset="diabetes-holdout@v1", workspace=ws)
    with pytest.raises(InvalidInput, match=r"'nonsense' cannot be computed.*regression: r2"):
        client.leaderboard("diabetes", "nonsense", dataset="diabetes-holdout@v1", workspace=ws)
    # a holdout without one of the model's inputs: said which, not a guess at the label
    client.register_dataset(
        "thin", holdout.drop(columns=[x.columns[1]]), workspace=ws, environment="dev"
    )
    with pytest.raises(
        InvalidInput, match=rf"thin@v1 lacks column '{x.columns[1]}' of the signature"
    ):
        client.leaderboard("diabetes", "r2", dataset="thin@v1", workspace=ws)


def test_a_custom_metric_by_import_path_ranks_and_moves_the_challenger(
    client: Client, ws: str
) -> None:
    train, holdout = _split(datasets.load_breast_cancer, 6)
    models = [
        make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500)) for c in (0.001, 1.0)
    ]
    _register(client, ws, "cancer", models, train)
    client.register_dataset("cancer-holdout", holdout, workspace=ws, environment="dev")
    x, y = holdout.drop(columns=["target"]), holdout["target"].to_numpy()

    def cost(m: Any) -> float:
        p = m.predict(x)
        return float(5 * np.sum((y == 1) & (p == 0)) + np.sum((y == 0) & (p == 1)))

    ranked = client.leaderboard(
        "cancer",
        "tests.registry._metrics:cost",
        dataset="cancer-holdout@v1",
        workspace=ws,
        set_challenger=True,
    )
    assert _values(ranked) == {v: cost(m) for v, m in enumerate(models, 1)}
    assert ranked[0].value == min(e.value for e in ranked)  # its higher_is_better = False
    assert "challenger" in ranked[0].aliases
    assert client.get_model_version("models:/cancer@challenger", workspace=ws).version == (
        ranked[0].version
    )
    scored = client.leaderboard(
        "cancer", "tests.registry._metrics:top_score", dataset="cancer-holdout@v1", workspace=ws
    )
    assert _values(scored) == pytest.approx(
        {v: float(np.max(m.predict_proba(x)[:, 1])) for v, m in enumerate(models, 1)}
    )
    with pytest.raises(InvalidInput, match=r"cannot import 'tests\.registry\._metrics:nothing'"):
        client.leaderboard(
            "cancer", "tests.registry._metrics:nothing", dataset="cancer-holdout@v1", workspace=ws
        )


def test_a_version_whose_run_did_not_log_the_metric_is_said_so_and_not_ranked(
    client: Client, ws: str
) -> None:
    train, _ = _split(datasets.load_breast_cancer, 6)
    x, y = train.drop(columns=["target"]), train["target"]
    for auc in (0.8, None, 0.9):
        with client.start_run("cancer", workspace=ws) as run:
            if auc is not None:
                run.log_metric("auc", auc)
            run.log_model(LogisticRegression(max_iter=500).fit(x, y), "cancer", input_example=x[:5])
    for set_challenger in (False, True):
        ranked = client.leaderboard("cancer", "auc", workspace=ws, set_challenger=set_challenger)
        assert [(e.rank, e.version, e.value) for e in ranked] == [
            (1, 3, 0.9),
            (2, 1, 0.8),
            (None, 2, None),
        ]
        assert ranked[2].note == "its run did not log auc"
    assert client.get_model_version("models:/cancer@challenger", workspace=ws).version == 3


def test_moving_the_challenger_needs_register_rights_and_a_refusal_leaves_nothing(
    client: Client, connector: Any, ws: str, unchanged: Unchanged
) -> None:
    train, _ = _split(datasets.load_breast_cancer, 6)
    _register(client, ws, "cancer", [LogisticRegression(max_iter=500)], train)
    client.create_principal("rita")
    client.grant("rita", "viewer", ws)
    reader = connector.as_principal("rita")
    assert [e.version for e in reader.leaderboard("cancer", "auc", workspace=ws)] == [1]
    with unchanged(), pytest.raises(PermissionDenied):
        reader.leaderboard("cancer", "auc", workspace=ws, set_challenger=True)
