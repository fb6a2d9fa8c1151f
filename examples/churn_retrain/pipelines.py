"""Retraining the churn model on the newest customers: what a monitor starts when its
alert fires (``monitor retrain set ... --project examples/churn_retrain``).

The customers come from the registered dataset named in ``conf/base/catalog.yml`` (its
reading is the run's lineage); the model is a scikit-learn pipeline, logged by the platform
with the ``example`` output as its input example; ``metrics`` become the run's metrics, which
the promotion gates read.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from modelwright.pipelines import node, pipeline

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_years"]


def split(customers: pd.DataFrame, test_fraction: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = int(len(customers) * (1 - test_fraction))
    return customers.iloc[:cut].reset_index(drop=True), customers.iloc[cut:].reset_index(drop=True)


def train(data: pd.DataFrame, model: dict[str, Any]) -> Pipeline:
    fitted = Pipeline(
        [("scale", StandardScaler()), ("model", LogisticRegression(C=float(model["c"])))]
    )
    return fitted.fit(data[FEATURES], data["churned"])


def evaluate(model: Pipeline, test: pd.DataFrame) -> dict[str, float]:
    scores = model.predict_proba(test[FEATURES])[:, 1]
    return {"val_auc": float(roc_auc_score(test["churned"], scores))}


def example(customers: pd.DataFrame) -> pd.DataFrame:
    return customers[FEATURES].head(5)


PIPELINES = {
    "retrain": pipeline(
        [
            node(
                split,
                inputs=["customers", "params:test_fraction"],
                outputs=["train_set", "test_set"],
            ),
            node(train, inputs=["train_set", "params:model"], outputs="model"),
            node(evaluate, inputs=["model", "test_set"], outputs="metrics"),
            node(example, inputs="customers", outputs="example"),
        ]
    ),
}
