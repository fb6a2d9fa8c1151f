"""A workspace with a dev datastore, a customers table and a churn model registered in it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from tests.cli.conftest import Result, cli, home  # noqa: F401 -- the CLI runner, shared

from modelwright.client import Client

pytest.importorskip("sklearn")

FEATURES = ["x0", "x1", "x2", "x3"]


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Downloads and batch work directories of this test alone (never the user's cache)."""
    path = tmp_path / "client-cache"
    monkeypatch.setenv("MODELWRIGHT_CACHE_DIR", str(path))
    for var in ("MODELWRIGHT_WORKSPACE", "MODELWRIGHT_ENVIRONMENT"):
        monkeypatch.delenv(var, raising=False)
    # Datastores of the tests live in the test's directory.
    monkeypatch.setenv("MODELWRIGHT_DATASTORE_ROOTS", str(tmp_path))
    return path


def customers(rows: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(rows, len(FEATURES))), columns=FEATURES)
    frame.insert(0, "cust", [f"c{i:05d}" for i in range(rows)])
    frame["label"] = (frame["x0"] + frame["x1"] > 0).astype(int)
    return frame


def fit(frame: pd.DataFrame) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression()).fit(
        frame[FEATURES], frame["label"]
    )


def setup_world(client: Client, lake: Path, frame: pd.DataFrame, model: Any) -> None:
    """Workspace ``ml``: ``customers@v1`` and ``churn`` v1 with alias ``champion`` in dev."""
    client.create_workspace("ml")
    client.create_datastore("ml", "dev", "lake", str(lake))
    client.register_dataset("customers", frame, workspace="ml", environment="dev")
    log_model(client, model, frame)


def log_model(client: Client, model: Any, frame: pd.DataFrame, name: str = "churn") -> int:
    with client.start_run("train", workspace="ml", environment="dev", snapshot=False) as run:
        version = run.log_model(model, name, input_example=frame[FEATURES].head(5)).version
    client.set_alias(name, "champion", version, workspace="ml", environment="dev")
    return version


@dataclass
class World:
    client: Client
    frame: pd.DataFrame
    model: Any


@pytest.fixture
def world(client: Client, tmp_path: Path) -> World:
    frame = customers()
    model = fit(frame)
    setup_world(client, tmp_path / "lake", frame, model)
    return World(client, frame, model)
