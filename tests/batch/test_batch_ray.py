"""One job on a local Ray instance (two actors): Ray's start-up is slow, so just this one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.batch.conftest import FEATURES, customers, fit, setup_world

import modelwright
from modelwright.batch import run_batch

pytest.importorskip("ray")


def test_ray_output_equals_predict(tmp_path) -> None:
    frame = customers(500)
    model = fit(frame)
    with modelwright.connect(tmp_path / "home") as client:
        setup_world(client, tmp_path / "lake", frame, model)
        result = run_batch(
            client,
            "models:/churn@champion",
            "customers@v1",
            "scores",
            workspace="ml",
            id_column="cust",
            chunk_rows=100,
            workers=2,
            executor="ray",
        )
        assert (result.rows, result.chunks, result.failed_rows) == (500, 5, 0)
        out = client.load_dataset("scores@v1", workspace="ml", environment="dev")
    assert isinstance(out, pd.DataFrame)
    assert out["cust"].tolist() == frame["cust"].tolist()
    assert np.array_equal(out["prediction"], model.predict(frame[FEATURES]))
