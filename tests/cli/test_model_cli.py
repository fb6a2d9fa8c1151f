from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import Run

import modelwright

pytest.importorskip("sklearn")


def _register(home: Path) -> None:
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    x = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20) % 3})
    y = np.arange(20) % 2
    with modelwright.connect(home) as client:
        client.create_workspace("ml")
        for c, auc in ((1.0, 0.6), (0.5, 0.8)):
            with client.start_run("churn", workspace="ml") as run:
                run.log_metric("auc", auc)
                run.log_model(LogisticRegression(C=c).fit(x, y), "churn", input_example=x[:3])


def test_model_commands(cli: Run, home: Path, tmp_path: Path) -> None:
    _register(home)
    r = cli("model", "list")
    assert r.code == 0, r.err
    assert "churn" in r.out and "2" in r.out
    r = cli("model", "versions", "churn", "--json")
    assert [v["version"] for v in json.loads(r.out)] == [1, 2]
    r = cli("model", "show", "models:/churn/2")
    assert r.code == 0 and "sklearn" in r.out and "a: float" in r.out
    r = cli("model", "leaderboard", "churn", "--metric", "auc", "--set-challenger")
    assert r.code == 0, r.err
    assert "challenger → v2" in r.out
    r = cli("model", "leaderboard", "churn", "--metric", "f1")
    assert r.code == 0, r.err
    assert "v2 not ranked: its run did not log f1" in r.out
    assert "v1 not ranked: its run did not log f1" in r.out
    r = cli("model", "leaderboard", "--help")
    assert "roc_auc_ovr" in r.out and "package.module:function" in r.out
    assert cli("model", "alias", "set", "churn", "champion", "1", "--reason", "first").code == 0
    r = cli("model", "alias", "history", "churn", "--json")
    assert [(e["alias"], e["to_version"]) for e in json.loads(r.out)] == [
        ("challenger", 2),
        ("champion", 1),
    ]
    r = cli("model", "alias", "set", "churn", "champion", "9")
    assert r.code == 1 and "version 9 of model 'churn' not found" in r.err
    assert r.err.count("\n") == 1
    out = tmp_path / "pkg"
    r = cli("model", "package", "models:/churn@champion", "--out", str(out), "--kubernetes")
    assert r.code == 0, r.err
    assert {"Dockerfile", "serve.py", "requirements.txt"} <= {p.name for p in out.iterdir()}
    assert (out / "k8s" / "deployment.yaml").is_file()
    (wheel,) = (out / "wheels").iterdir()
    assert f"wheels/{wheel.name}" in r.out
    pinned = tmp_path / "pinned"
    r = cli(
        "model",
        "package",
        "models:/churn/1",
        "-o",
        str(pinned),
        "--modelwright-requirement",
        "mw==1",
    )
    assert r.code == 0, r.err
    assert (pinned / "requirements.txt").read_text().startswith("mw==1\n")
    r = cli(
        "model",
        "package",
        "models:/churn/1",
        "-o",
        str(tmp_path / "x"),
        "--modelwright-requirement",
        " ",
    )
    assert r.code == 1 and "modelwright_requirement: one requirement line" in r.err
    assert not (tmp_path / "x").exists()
    r = cli("model", "alias", "delete", "churn", "champion")
    assert r.code == 0 and "was v1" in r.out
