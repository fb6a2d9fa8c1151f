"""A small churn model trained with numpy alone, tracked with modelwright.

Used by the main job (``examples/demo.py``); also runnable on its own:
``python examples/churn.py`` logs a few runs into ``./.modelwright``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

import modelwright as mw
from modelwright.client import ActiveRun

FEATURES = ["tenure_months", "monthly_charges", "support_calls", "contract_years"]


def make_customers(n: int = 2_000, seed: int = 7) -> pd.DataFrame:
    """Synthetic customers; churn grows with charges and support calls, falls with tenure."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "tenure_months": rng.integers(1, 72, n),
            "monthly_charges": rng.normal(70, 20, n).round(2),
            "support_calls": rng.poisson(1.5, n),
            "contract_years": rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2]),
            "plan": rng.choice(["basic", "plus", "pro"], n),
        }
    )
    logit = (
        -1.0
        - 0.04 * df.tenure_months
        + 0.03 * (df.monthly_charges - 70)
        + 0.6 * df.support_calls
        - 0.8 * df.contract_years
    )
    df["churned"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve via the rank statistic (Mann-Whitney U)."""
    order = score.argsort()
    ranks = np.empty(len(score))
    ranks[order] = np.arange(1, len(score) + 1)
    pos = y == 1
    n_pos, n_neg = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def train(df: pd.DataFrame, *, lr: float, epochs: int, l2: float, run: ActiveRun) -> float:
    """Logistic regression by gradient descent; logs loss and AUC per epoch to ``run``."""
    x = df[FEATURES].to_numpy(float)
    x = (x - x.mean(0)) / x.std(0)
    y = df["churned"].to_numpy()
    split = int(len(df) * 0.8)
    xt, yt, xv, yv = x[:split], y[:split], x[split:], y[split:]
    w, b = np.zeros(x.shape[1]), 0.0
    auc = 0.5
    for epoch in range(epochs):
        p = 1 / (1 + np.exp(-(xt @ w + b)))
        w -= lr * (xt.T @ (p - yt) / len(yt) + l2 * w)
        b -= lr * float((p - yt).mean())
        loss = float(-np.mean(yt * np.log(p + 1e-9) + (1 - yt) * np.log(1 - p + 1e-9)))
        auc = _auc(yv, xv @ w + b)
        run.log_metrics({"train_loss": loss, "val_auc": auc}, step=epoch)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "weights.npz"
        np.savez(path, w=w, b=b)
        run.log_artifact(path, "model")
    return auc


def main() -> None:
    df = make_customers()
    for lr in (0.05, 0.2, 0.5):
        with mw.start_run("churn", name=f"lr={lr}") as run:
            run.log_params({"lr": lr, "epochs": 60, "l2": 0.01})
            print(f"{run.id}  lr={lr}  val_auc={train(df, lr=lr, epochs=60, l2=0.01, run=run):.3f}")


if __name__ == "__main__":
    main()
