"""Versions print as one line in a notebook; what they hold is one attribute away."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.registry.conftest import Doubler

from modelwright.client import Client


@pytest.fixture
def ws(client: Client, tmp_path: Path) -> str:
    client.create_workspace("ml")
    client.create_datastore("ml", "dev", "lake", str(tmp_path / "lake"))
    return "ml"


def test_dataset_and_model_versions_print_on_one_line(
    client: Client, ws: str, frame: pd.DataFrame
) -> None:
    wide = pd.DataFrame({f"c{i}": np.arange(100.0) for i in range(40)})
    dv = client.register_dataset("wide", wide, workspace=ws, environment="dev")
    assert repr(dv) == (
        "DatasetVersionInfo(workspace='ml', environment='dev', name='wide', version=1, "
        f"format='parquet', rows=100, size={dv.size})"
    )
    assert dv.profile is not None and len(dv.profile.columns) == 40  # on demand
    dataset = client.get_dataset("wide", workspace=ws, environment="dev")
    assert "\n" not in repr(dataset) and "c39" not in repr(dataset)

    with client.start_run("x", workspace=ws) as run:
        # registered from the run named by a prefix of its id
        mv = client.log_model(Doubler(), "churn", run_id=run.id[:8], input_example=frame[:3])
    assert mv.run_id == run.id
    assert repr(mv) == (
        f"ModelVersionInfo(workspace='ml', name='churn', version=1, flavor='pyfunc', "
        f"environment='dev', run_id='{run.id}')"
    )
    assert mv.signature is not None and mv.files  # on demand
    assert str(client.get_model("churn", workspace=ws)).count("\n") == 0
    assert repr(client.get_run(run.id)) == (
        f"RunDetail(id='{run.id}', experiment='x', name='', environment='dev', status='finished')"
    )
    assert mv.model_dump()["signature"] is not None  # what is shown is not what is sent
