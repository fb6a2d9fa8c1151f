"""The prediction methods from the CLI: ``model show`` lists each method's outputs and how the
model is stored; ``endpoint deploy --method`` keeps the method or refuses it, naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import Run
from tests.endpoints.conftest import register_churn
from tests.endpoints.test_deploy_method import register_price

import modelwright

pytest.importorskip("sklearn")

from sklearn import datasets
from sklearn.linear_model import LogisticRegression
from tests.registry.test_predict_methods import Wrapper, log


def test_model_show_lists_each_methods_outputs_and_the_storage(cli: Run, home: Path) -> None:
    frame = datasets.load_wine(as_frame=True).frame
    x, y = frame.drop(columns=["target"]), frame["target"]
    clf = LogisticRegression(max_iter=5000).fit(x, y)
    with modelwright.connect(home) as client:
        client.create_workspace("ml")
        log(client, "wine", clf, x)
        log(client, "wrapped", Wrapper(clf), x, allow_pickle=True)
    r = cli("model", "show", "models:/wine/1", "--workspace", "ml")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert any("outputs (predict)" in line and "int64(-1,)" in line for line in lines)
    assert any(
        "outputs (predict_proba)" in line and "0: float, 1: float, 2: float" in line
        for line in lines
    )
    assert any("outputs (decision_function)" in line for line in lines)
    assert any("stored as" in line and "skops (no pickle)" in line for line in lines)
    r = cli("model", "show", "models:/wrapped/1", "--workspace", "ml")
    assert r.code == 0, r.err
    assert "pickle (loading it runs code from the file)" in r.out
    assert "outputs (predict)" in r.out and "outputs (predict_proba)" not in r.out


def test_deploy_method_from_the_cli(cli: Run, home: Path) -> None:
    with modelwright.connect(home) as client:
        register_churn(client, versions=1)
        register_price(client)
    assert cli("endpoint", "create", "churn", "--env", "dev").code == 0
    r = cli(
        "endpoint", "deploy", "churn", "blue", "models:/churn/1", "--env", "dev",
        "--method", "predict_proba", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert [d["config"]["method"] for d in json.loads(r.out)["deployments"]] == ["predict_proba"]
    r = cli("endpoint", "deploy", "churn", "blue", "models:/churn/1", "--method", "proba")
    assert r.code == 1
    assert "method: unknown prediction method 'proba' (one of predict, predict_proba, " in r.err
    assert cli("endpoint", "create", "price", "--env", "dev").code == 0
    r = cli("endpoint", "deploy", "price", "blue", "models:/price/1", "--method", "predict_proba")
    assert r.code == 1
    assert "config.method: models:/price/1 has no predict_proba (it has predict)" in r.err
