"""The performance and prediction signals end to end: captured predictions joined with their
labels and scored as sklearn.metrics scores the same joined data; prediction drift against
the baseline's labels or the served model's predictions; no labels is no data; alert rules
read the new signals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics
from tests.conftest import Connector
from tests.monitoring import test_monitors
from tests.monitoring.monitor_data import FEATURES, capture_predictions, customers, records
from tests.monitoring.test_monitors import WHERE, evaluate, value

from modelwright.client import Client

lake = test_monitors.lake  # the fixture: ml/dev, endpoint churn, baseline customers@v1
pytest.importorskip("sklearn")


def _create(client: Client, signals: list[str], **kw: object) -> None:
    client.create_monitor(
        "watch", endpoint="churn", baseline="customers@v1",
        signals=signals, **kw, **WHERE,  # type: ignore[arg-type]
    )  # fmt: skip


def test_binary_classification_scores_equal_sklearn_on_the_joined_data(
    lake: Path, client: Client, connector: Connector
) -> None:
    _create(client, ["performance"], thresholds={"accuracy": 0.99, "log_loss": 5.0})
    rng = np.random.default_rng(1)
    n = 60
    truth = rng.integers(0, 2, size=n)
    p1 = truth * 0.4 + rng.uniform(0.0, 0.6, size=n)
    predicted = (p1 >= 0.5).astype(int)
    answers = [
        {"label": int(c), "probabilities": [1 - float(p), float(p)]}
        for c, p in zip(predicted, p1, strict=True)
    ]
    ids = capture_predictions(lake, records(customers(n)[FEATURES]), answers)
    labelled = 50  # the last ten stay unlabelled
    client.log_labels(
        "watch",
        [{"request_id": i, "label": int(t)} for i, t in zip(ids[:labelled], truth, strict=False)]
        + [{"request_id": "never-captured", "label": 1}],
        **WHERE,
    )
    evaluate(client, connector)
    rows = client.get_monitor("watch", **WHERE).latest
    y, p, proba = truth[:labelled], predicted[:labelled], p1[:labelled]
    expected = {
        "accuracy": metrics.accuracy_score(y, p),
        "precision": metrics.precision_score(y, p),
        "recall": metrics.recall_score(y, p),
        "f1": metrics.f1_score(y, p),
        "roc_auc": metrics.roc_auc_score(y, proba),
        "log_loss": metrics.log_loss(y, np.column_stack([1 - proba, proba])),
    }
    for name, want in expected.items():
        assert value(rows, name).value == pytest.approx(want, rel=1e-12), name
    assert value(rows, "labelled_share").value == pytest.approx(labelled / n)
    assert value(rows, "unmatched_labels").value == 1.0
    acc = value(rows, "accuracy")
    assert (acc.threshold, acc.status) == (0.99, "alert")  # higher is better: below alerts
    assert value(rows, "log_loss").status == "ok"


def test_regression_scores_equal_sklearn(lake: Path, client: Client, connector: Connector) -> None:
    _create(client, ["performance"], task="regression", thresholds={"mae": 0.01})
    rng = np.random.default_rng(2)
    truth = rng.normal(10.0, 2.0, size=30)
    guess = truth + rng.normal(0.0, 0.5, size=30)
    ids = capture_predictions(lake, records(customers(30)[FEATURES]), guess.tolist())
    client.log_labels(
        "watch",
        [{"request_id": i, "label": float(t)} for i, t in zip(ids, truth, strict=True)],
        **WHERE,
    )
    evaluate(client, connector)
    rows = client.get_monitor("watch", **WHERE).latest
    expected = {
        "mae": metrics.mean_absolute_error(truth, guess),
        "rmse": metrics.root_mean_squared_error(truth, guess),
        "r2": metrics.r2_score(truth, guess),
        "mape": metrics.mean_absolute_percentage_error(truth, guess),
    }
    for name, want in expected.items():
        assert value(rows, name).value == pytest.approx(want, rel=1e-12), name
    assert value(rows, "mae").status == "alert"
    assert value(rows, "labelled_share").value == 1.0


def test_no_label_is_no_data_and_no_probabilities_skip_auc(
    lake: Path, client: Client, connector: Connector
) -> None:
    _create(client, ["performance"], task="classification")
    ids = capture_predictions(lake, records(customers(4)[FEATURES]), [0, 1, 1, 0])
    evaluate(client, connector)
    m = client.get_monitor("watch", **WHERE)
    assert value(m.latest, "labelled_share").value == 0.0
    assert value(m.latest, "accuracy").status == "no_data"
    assert value(m.latest, "accuracy").value is None
    assert m.status == "no_data"
    client.log_labels(
        "watch", [{"request_id": i, "label": c} for i, c in zip(ids, [0, 1, 0, 0], strict=True)],
        **WHERE,
    )  # fmt: skip
    evaluate(client, connector)
    rows = client.get_monitor("watch", **WHERE).latest
    assert value(rows, "accuracy").value == 0.75
    auc = value(rows, "roc_auc")
    assert (auc.status, auc.value) == ("no_data", None)
    assert "no class probabilities" in auc.detail


def test_prediction_drift_against_the_baseline_labels_and_alert_rules(
    lake: Path, client: Client, connector: Connector
) -> None:
    _create(
        client, ["prediction", "performance"], baseline_predictions="label",
        label_column="churned",
    )  # fmt: skip
    client.add_alert_rule(
        "watch", "shifted", when="prediction.drift < 0.05", sinks=["log"], **WHERE
    )
    client.add_alert_rule(
        "watch", "worse", when="performance.accuracy < 0.9", sinks=["log"], **WHERE
    )
    rng = np.random.default_rng(4)
    same = rng.integers(0, 2, size=200).tolist()  # as the baseline's churned: half and half
    capture_predictions(lake, records(customers(200)[FEATURES]), same, prefix="a")
    evaluate(client, connector)
    first = value(client.get_monitor("watch", **WHERE).latest, "drift")
    assert (first.signal, first.status) == ("prediction", "ok")
    assert "churned" in first.detail
    ids = capture_predictions(lake, records(customers(200)[FEATURES]), [1] * 200, prefix="b")
    client.log_labels("watch", [{"request_id": i, "label": 0} for i in ids], **WHERE)
    evaluate(client, connector)
    rows = client.get_monitor("watch", **WHERE).latest
    shifted = value(rows, "drift")
    assert shifted.status == "alert" and shifted.value is not None and shifted.value < 0.05
    rules = {r.name: r.state for r in client.list_alert_rules("watch", **WHERE)}
    assert rules == {"shifted": "firing", "worse": "firing"}


def test_prediction_drift_against_the_served_model(
    lake: Path, client: Client, connector: Connector
) -> None:
    _create(client, ["prediction"])
    # The served model predicts the baseline's most frequent class for every row.
    base = customers()
    top = int(base["churned"].mode()[0])
    capture_predictions(lake, records(customers(100)[FEATURES]), [1 - top] * 100)
    evaluate(client, connector)
    row = value(client.get_monitor("watch", **WHERE).latest, "drift")
    assert row.status == "alert", row
    assert "models:/churn/1" in row.detail


def test_an_empty_window_is_no_data_for_the_model_signals(
    lake: Path, client: Client, connector: Connector
) -> None:
    _create(client, ["prediction", "performance"])
    evaluate(client, connector)
    m = client.get_monitor("watch", **WHERE)
    assert m.status == "no_data"
    assert value(m.latest, "drift").status == "no_data"
    assert value(m.latest, "labelled_share").value is None
