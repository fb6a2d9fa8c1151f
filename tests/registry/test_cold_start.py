"""What a fresh process pays to load a registered model: no scan of all of scikit-learn, no
Alembic while the schema is at head, each file hashed once; a save after a fast load judges
types as skops's full defaults do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

import modelwright
from modelwright.store.migrate import head_revision, scanned_head

pytest.importorskip("skops")

# Imported only by skops's scan of every estimator (pytest through scikit-learn's testing
# utilities), by Alembic, or by a model that needs them: none of them here.
HEAVY = ("pytest", "alembic", "sklearn.calibration", "sklearn.naive_bayes")

LOAD = """
import json, sys
from pathlib import Path

import pandas as pd

import modelwright

case = json.loads(sys.argv[1])
client = modelwright.connect(case["home"])
model = client.load_model("models:/churn/1")
rows = pd.DataFrame(case["rows"])
print(json.dumps({
    "predicted": [int(v) for v in model.predict(rows)],
    "heavy": sorted(m for m in case["heavy"] if m in sys.modules),
}))
from sklearn.naive_bayes import GaussianNB

from modelwright.registry.artifact import save_dir

manifest, _ = save_dir(GaussianNB().fit(rows, [0, 1] * 2), Path(case["home"]) / "nb")
print(json.dumps(manifest.flavor_meta["untrusted_types"]))
"""


def test_the_head_is_read_from_the_migration_files_as_alembic_reads_it() -> None:
    assert scanned_head() == head_revision()


def test_cold_load_imports_only_what_the_model_needs(tmp_path: Path, frame, labels) -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, labels)
    home = tmp_path / "home"
    with modelwright.connect(home) as client, client.start_run("churn") as run:
        run.log_model(model, "churn", input_example=frame[:5])
    rows = frame[:4]
    case = {"home": str(home), "rows": rows.to_dict(orient="list"), "heavy": list(HEAVY)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELWRIGHT_")}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LOAD), json.dumps(case)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded, untrusted = (json.loads(line) for line in done.stdout.strip().splitlines()[-2:])
    assert loaded == {"predicted": model.predict(pd.DataFrame(rows)).tolist(), "heavy": []}
    # The save after a fast load judges with skops's full defaults: nothing is untrusted.
    assert untrusted == []


def test_each_file_is_hashed_once_per_load(
    tmp_path: Path, frame, labels, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from sklearn.linear_model import LogisticRegression

    from modelwright.registry import artifact

    hashed: list[str] = []
    real = artifact.sha256_file

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    with modelwright.connect(tmp_path / "home") as client:
        with client.start_run("churn") as run:
            run.log_model(LogisticRegression().fit(frame, labels), "churn")
        monkeypatch.setattr(artifact, "sha256_file", counting)
        cache = tmp_path / "home" / "cache" / "models"
        shutil.rmtree(cache, ignore_errors=True)
        client.load_model("models:/churn/1")  # fetched: checked by digest on the way
        assert hashed == []
        client.load_model("models:/churn/1")  # from the download cache: checked once
        assert hashed == ["model.skops"]
