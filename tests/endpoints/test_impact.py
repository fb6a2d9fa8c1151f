"""``lineage --impact``: from a dataset version to the model versions trained on it, the
deployments serving them and what the caller may not see, counted but not named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import Connector

from modelwright.client import Client

pytest.importorskip("sklearn")


def test_impact_of_a_dataset_version_names_models_and_where_they_serve(
    client: Client, connector: Connector, tmp_path: Path
) -> None:
    from sklearn.linear_model import LogisticRegression

    client.create_workspace("ml")
    client.create_datastore("ml", "dev", "lake", str(tmp_path / "lake"))
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 2)), columns=["a", "b"])
    frame["y"] = (frame["a"] > 0).astype(int)
    client.register_dataset("customers", frame, workspace="ml", environment="dev")
    with client.start_run("train", workspace="ml", environment="dev", snapshot=False) as run:
        data = client.load_dataset("customers@v1", workspace="ml", environment="dev", run_id=run.id)
        model = LogisticRegression().fit(data[["a", "b"]], data["y"])
        version = run.log_model(model, "churn", input_example=data[["a", "b"]].head()).version
    client.create_endpoint("churn", workspace="ml", environment="dev")
    client.deploy("churn", "blue", "churn", version, workspace="ml", environment="dev")

    g = client.lineage("dataset:dev/customers@v1", workspace="ml", impact=True)
    assert g.impact is not None
    assert g.impact.model_versions == [f"models:/churn/{version}"]
    assert [(e.endpoint, e.deployment, e.weight) for e in g.impact.endpoints] == [
        ("churn", "blue", 100)
    ]
    assert g.impact.hidden == 0
    assert client.lineage("dataset:dev/customers@v1", workspace="ml").impact is None
