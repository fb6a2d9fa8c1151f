"""What a fresh process imports: ``import modelwright`` almost nothing; a client of a remote
platform, even one that loads a model, neither the database stack nor any service."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelwright.client import Client

pytest.importorskip("skops")

# A service module runs operations against the database: only a platform imports them.
FORBIDDEN_PREFIXES = ("sqlalchemy", "alembic", "modelwright.store.schema", "modelwright.store.db")
FORBIDDEN_MODULES = ("modelwright.core.platform", "modelwright.core.context")

REMOTE = """
import json, sys

case = json.loads(sys.argv[1])
import modelwright

client = modelwright.connect(case["url"], token=case["token"])
connected = sorted(sys.modules)
model = client.load_model("models:/churn/1")
import pandas as pd

predicted = [int(v) for v in model.predict(pd.DataFrame(case["rows"]))]
print(json.dumps({"connected": connected, "loaded": sorted(sys.modules), "predicted": predicted}))
"""

ALONE = """
import json, sys

before = set(sys.modules)
import modelwright

print(json.dumps(sorted(set(sys.modules) - before)))
"""


@pytest.fixture
def db() -> str:
    return "sqlite"  # what a client imports does not depend on the platform's database


def _run(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def _heavy(modules: list[str]) -> list[str]:
    return [
        m
        for m in modules
        if m.startswith(FORBIDDEN_PREFIXES)
        or m in FORBIDDEN_MODULES
        or (m.startswith("modelwright.") and m.rsplit(".", 1)[-1].endswith("service"))
    ]


def test_import_modelwright_alone_loads_a_handful_of_modules() -> None:
    imported = json.loads(_run(ALONE))
    assert [m for m in imported if m.startswith("modelwright")] == [
        "modelwright",
        "modelwright.errors",
    ]
    # The client, pydantic and httpx load on first use of connect() or the fluent API.
    assert not [m for m in imported if m.startswith(("pydantic", "httpx", "sqlalchemy"))]
    assert len(imported) < 60, imported


def test_a_remote_client_loads_a_model_without_the_database_or_any_service(
    server, local_client: Client, tmp_path: Path
) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"tenure": rng.normal(size=60), "calls": rng.integers(0, 5, size=60)})
    labels = (frame["tenure"] + 0.3 * frame["calls"] > 0.5).astype(int).to_numpy()
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, labels)
    with local_client.start_run("churn") as run:
        run.log_model(model, "churn", input_example=frame[:5])
    token = local_client.create_token(name="budget").secret
    rows = frame[:4]
    case = {"url": server.url, "token": token, "rows": rows.to_dict(orient="list")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELWRIGHT_")}
    env["MODELWRIGHT_CACHE_DIR"] = str(tmp_path / "cache")

    got = json.loads(_run(REMOTE, json.dumps(case), env=env))

    assert got["predicted"] == model.predict(rows).tolist()
    assert _heavy(got["connected"]) == []
    assert _heavy(got["loaded"]) == []
    # The embedded transport is what would bring them: it is not even imported.
    assert "modelwright.client._local" not in got["loaded"]
