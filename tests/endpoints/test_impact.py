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
    # Each node names itself as the entity its own lineage is asked for with.
    [reader] = g.descendants
    assert reader.ref == f"run:{run.id}"
    [trained] = reader.children
    assert trained.ref == f"models:/churn/{version}"
    assert client.lineage(reader.ref, workspace="ml").entity.id == run.id
    # A model version's impact: where it serves itself.
    own = client.lineage(trained.ref, workspace="ml", impact=True)
    assert own.entity.ref == trained.ref
    assert [a.ref for a in own.ancestors] == [f"run:{run.id}"]
    assert own.ancestors[0].children[0].ref == "dataset:dev/customers@v1"
    assert own.impact is not None and own.impact.model_versions == []
    assert [(e.endpoint, e.model) for e in own.impact.endpoints] == [("churn", trained.ref)]
