"""A small churn model (scikit-learn), tracked and registered with modelwright.

Used by the main job (``examples/demo.py``); also runnable on its own:
``python examples/churn.py`` logs a few runs into ``./.modelwright``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

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


def train(
    df: pd.DataFrame, *, lr: float, epochs: int, l2: float, run: ActiveRun
) -> tuple[Pipeline, float]:
    """A scaler + logistic regression trained epoch by epoch (SGD), logging loss and AUC."""
    x, y = df[FEATURES], df["churned"].to_numpy()
    split = int(len(df) * 0.8)
    scaler = StandardScaler().fit(x[:split])
    xt, xv = scaler.transform(x[:split]), scaler.transform(x[split:])
    sgd = SGDClassifier(
        loss="log_loss", alpha=l2, learning_rate="constant", eta0=lr, random_state=0
    )
    auc = 0.5
    for epoch in range(epochs):
        sgd.partial_fit(xt, y[:split], classes=[0, 1])
        loss = log_loss(y[:split], sgd.predict_proba(xt)[:, 1])
        auc = float(roc_auc_score(y[split:], sgd.predict_proba(xv)[:, 1]))
        run.log_metrics({"train_loss": loss, "val_auc": auc}, step=epoch)
    return Pipeline([("scale", scaler), ("model", sgd)]), auc


def main() -> None:
    df = make_customers()
    for lr in (0.001, 0.01, 0.1):
        with mw.start_run("churn", name=f"lr={lr}") as run:
            run.log_params({"lr": lr, "epochs": 20, "l2": 0.001})
            model, auc = train(df, lr=lr, epochs=20, l2=0.001, run=run)
            run.log_model(model, "churn", input_example=df[FEATURES].head(5))
            print(f"{run.id}  lr={lr}  val_auc={auc:.3f}")


if __name__ == "__main__":
    main()


def train_with_plan(df: pd.DataFrame, *, run: ActiveRun) -> Pipeline:
    """The same model with one more input, the customer's plan (one-hot): a schema change
    that callers who do not send ``plan`` yet will trip over."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder

    columns = [*FEATURES, "plan"]
    split = int(len(df) * 0.8)
    model = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        ("numbers", StandardScaler(), FEATURES),
                        ("plan", OneHotEncoder(handle_unknown="ignore"), ["plan"]),
                    ]
                ),
            ),
            ("model", LogisticRegression(max_iter=500)),
        ]
    ).fit(df[columns][:split], df["churned"][:split])
    auc = float(
        roc_auc_score(df["churned"][split:], model.predict_proba(df[columns][split:])[:, 1])
    )
    run.log_metrics({"val_auc": auc})
    return model
