"""A churn model as a pipeline: synthetic customers → features → split → train → evaluate.

Run it with ``modelwright pipeline run train --env dev --project examples/churn_pipeline``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modelwright.pipelines import node, pipeline

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_monthly"]


def make_customers(size: dict[str, Any]) -> pd.DataFrame:
    """Synthetic customers with a churn label that depends on the features."""
    rng = np.random.default_rng(size["seed"])
    n = int(size["customers"])
    tenure = rng.integers(1, 72, n)
    charges = rng.normal(70, 20, n).round(2)
    calls = rng.poisson(1.5, n)
    monthly = rng.random(n) < 0.5
    logit = -1.0 - 0.04 * tenure + 0.02 * (charges - 70) + 0.5 * calls + 1.2 * monthly
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "tenure_months": tenure,
            "monthly_charges": charges,
            "support_calls": calls,
            "contract": np.where(monthly, "monthly", "yearly"),
            "churned": churn.astype(int),
        }
    )


def build_features(customers: pd.DataFrame) -> pd.DataFrame:
    out = customers[["customer_id", "tenure_months", "monthly_charges", "support_calls"]].copy()
    out["contract_monthly"] = (customers["contract"] == "monthly").astype(float)
    out["churned"] = customers["churned"]
    return out


def split(
    table: pd.DataFrame, test_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    test = rng.random(len(table)) < test_fraction
    return table[~test].reset_index(drop=True), table[test].reset_index(drop=True)


def _standardise(x: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return (x - mean) / std


def train(train_set: pd.DataFrame, model: dict[str, Any]) -> dict[str, Any]:
    """Logistic regression by gradient descent; the model is plain JSON (no pickle)."""
    x = train_set[FEATURES].to_numpy(float)
    y = train_set["churned"].to_numpy(float)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9
    z = _standardise(x, mean, std)
    w, b = np.zeros(z.shape[1]), 0.0
    for _ in range(int(model["epochs"])):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        w -= model["learning_rate"] * (z.T @ (p - y) / len(y) + model["l2"] * w)
        b -= model["learning_rate"] * float(np.mean(p - y))
    return {
        "features": FEATURES,
        "mean": mean.tolist(),
        "std": std.tolist(),
        "weights": w.tolist(),
        "bias": b,
    }


def evaluate(model: dict[str, Any], test_set: pd.DataFrame) -> dict[str, float]:
    x = test_set[model["features"]].to_numpy(float)
    z = _standardise(x, np.array(model["mean"]), np.array(model["std"]))
    p = 1 / (1 + np.exp(-(z @ np.array(model["weights"]) + model["bias"])))
    y = test_set["churned"].to_numpy()
    return {"accuracy": float(np.mean((p > 0.5) == y)), "rows": len(y)}


data = pipeline(
    [
        node(make_customers, inputs="params:data", outputs="customers", tags=["data"]),
        node(build_features, inputs="customers", outputs="model_input", tags=["data"]),
    ]
)
modelling = pipeline(
    [
        node(
            split,
            inputs=["model_input", "params:split.test_fraction", "params:data.seed"],
            outputs=["train_set", "test_set"],
        ),
        node(train, inputs=["train_set", "params:model"], outputs="model"),
        node(evaluate, inputs=["model", "test_set"], outputs="metrics"),
    ]
)

PIPELINES = {"data": data, "train": data + modelling, "modelling": modelling}
