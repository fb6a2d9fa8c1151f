"""``monitor create/list/show/run/history/report/delete`` as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import Run
from tests.monitoring.monitor_data import FEATURES, capture, customers, records

import modelwright

pytest.importorskip("sklearn")


def test_create_run_show_history_and_delete_a_monitor(cli: Run, home: Path, tmp_path: Path) -> None:
    from sklearn.dummy import DummyClassifier

    lake = tmp_path / "lake"
    where = {"workspace": "ml", "environment": "dev"}
    with modelwright.connect(home) as admin:
        admin.create_workspace("ml")
        admin.create_datastore("ml", "dev", "lake", str(lake))
        base = customers()
        admin.register_dataset("customers", base, **where)
        with admin.start_run("churn", **where) as run:
            model = DummyClassifier().fit(base[FEATURES], base["churned"])
            run.log_model(model, "churn", input_example=base[FEATURES].head())
        admin.create_endpoint("churn", **where)
        admin.deploy("churn", "blue", "churn", 1, **where)
    capture(lake, records(customers(200, seed=5, shift=2.0)), per_request=10)
    scope = ["-w", "ml", "-e", "dev"]
    create = ["monitor", "create", "watch", "--endpoint", "churn", "--baseline", "customers@v1"]
    bad = cli(*create, "--schedule", "every 5 minutes", *scope)
    assert bad.code == 1 and "schedule: " in bad.err and "cron" in bad.err
    bad = cli(*create, "--threshold", "error_rate", *scope)
    assert bad.code == 1 and "--threshold: expected NAME=NUMBER" in bad.err
    made = cli(*create, "--window", "30m", "--schedule", "*/5 * * * *",
               "--signals", "drift,quality", "--threshold", "missing_share=0.2", *scope)  # fmt: skip
    assert made.code == 0, made.err
    assert "window 1800s" in made.out and "not evaluated yet" in made.out
    ran = cli("monitor", "run", "watch", *scope)
    assert ran.code == 0, ran.err
    assert "latest evaluation" in ran.out and "alert" in ran.out and "K-S p_value" in ran.out
    shown = cli("monitor", "show", "watch", "--json", *scope)
    latest = json.loads(shown.out)["latest"]
    tenure = next(r for r in latest if r["feature"] == "tenure" and r["metric"] == "drift")
    assert tenure["status"] == "alert"
    history = cli("monitor", "history", "watch", "--signal", "drift", "--feature", "tenure",
                  "--since", "1d", *scope)  # fmt: skip
    assert history.code == 0, history.err
    assert "History of watch (1)" in history.out and "alert" in history.out
    listed = cli("monitor", "list", "-w", "ml")
    assert "watch" in listed.out and "*/5 * * * *" in listed.out and "alert" in listed.out
    out = tmp_path / "report.html"
    reported = cli("monitor", "report", "watch", "--window", "1h", "--out", str(out), *scope)
    assert reported.code == 0, reported.err
    assert "200 captured row(s)" in out.read_text() and "written to" in reported.out
    data = cli("monitor", "report", "watch", "--window", "1h", "--out", str(out), "--json", *scope)
    assert json.loads(data.out)["current_rows"] == 200
    project = Path(__file__).resolve().parents[2] / "examples" / "churn_pipeline"
    retrain = ["monitor", "retrain", "set", "watch", "--pipeline", "train", "--model", "churn",
               "--project", str(project), "--json", *scope]  # fmt: skip
    set_ = cli(*retrain)
    assert set_.code == 0, set_.err
    assert json.loads(set_.out)["pipeline"] == "train"
    cleared = cli("monitor", "retrain", "clear", "watch", "--json", *scope)
    assert cleared.code == 0 and json.loads(cleared.out)["pipeline"] == "train"
    shown = cli("monitor", "retrain", "show", "watch", "--json", *scope)
    assert json.loads(shown.out)["action"] is None
    deleted = cli("monitor", "delete", "watch", "--json", *scope)
    assert deleted.code == 0 and json.loads(deleted.out)["name"] == "watch"
    assert "monitor 'watch' not found" in cli("monitor", "show", "watch", *scope).err
