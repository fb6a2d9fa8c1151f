from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelwright.client import Client

pytest.importorskip("sklearn")


def register_churn(client: Client, workspace: str = "ml", versions: int = 2) -> None:
    """A workspace ``workspace`` (dev → staging → prod) with ``versions`` churn versions in dev."""
    from sklearn.linear_model import LogisticRegression

    x = pd.DataFrame({"tenure": np.linspace(-1, 1, 40), "calls": np.arange(40) % 5})
    y = (x["tenure"] > 0).astype(int).to_numpy()
    client.create_workspace(workspace)
    for c in range(versions):
        with client.start_run("churn", workspace=workspace, environment="dev") as run:
            run.log_model(LogisticRegression(C=1.0 + c).fit(x, y), "churn", input_example=x[:3])
