"""``monitor alert add/list/remove`` and ``monitor alerts`` as a user types them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import Run, cli, home  # noqa: F401 (fixtures)
from tests.monitoring.alert_receiver import Receiver, verify
from tests.monitoring.monitor_data import FEATURES, capture, customers, records

import modelwright

pytest.importorskip("sklearn")

SCOPE = ["-w", "ml", "-e", "dev"]


def test_add_list_show_and_remove_alert_rules(
    cli: Run,  # noqa: F811
    home: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sklearn.dummy import DummyClassifier

    # The receiver runs on this host: a non-public address, which the operator allows.
    monkeypatch.setenv("MODELWRIGHT_ALERT_WEBHOOK_PRIVATE", "true")

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
    made = cli("monitor", "create", "watch", "--endpoint", "churn", "--baseline",
               "customers@v1", "--signals", "drift,quality", *SCOPE)  # fmt: skip
    assert made.code == 0, made.err
    add = ["monitor", "alert", "add", "watch"]
    bad = cli(*add, "r", "--when", "drift.share >= 0.5", "--sink", "webhook:file:///etc/passwd",
              *SCOPE)  # fmt: skip
    assert bad.code == 1 and "only http and https URLs" in bad.err
    bad = cli(*add, "r", "--when", "drift.share >= 0.5", "--for", "0", *SCOPE)
    assert bad.code == 1 and "consecutive" in bad.err
    bad = cli(*add, "r", "--when", "drift.nope > 1", *SCOPE)
    assert bad.code == 1 and "unknown metric 'nope' of signal drift" in bad.err
    secret = "cli-secret-0123456789"
    out = tmp_path / "alerts.jsonl"
    with Receiver() as receiver:
        added = cli(*add, "tenure", "--when", "drift.drift[tenure] < 0.05",
                    "--sink", f"webhook:{receiver.url}", "--sink", f"command:cat >> {out}",
                    "--secret", secret, *SCOPE)  # fmt: skip
        assert added.code == 0, added.err
        assert "drift.drift[tenure] < 0.05 for 1 evaluation(s)" in added.out
        assert "(signed)" in added.out
        capture(lake, records(customers(200, seed=5, shift=2.0)), per_request=10)
        assert cli("monitor", "run", "watch", *SCOPE).code == 0
    [(headers, body)] = receiver.received
    assert verify(secret, headers, body)
    assert json.loads(out.read_text())["state"] == "firing"
    listed = cli("monitor", "alert", "list", "watch", "--json", *SCOPE)
    [rule] = json.loads(listed.out)
    assert (rule["state"], rule["signed"]) == ("firing", True) and "secret" not in rule
    shown = cli("monitor", "alerts", "watch", *SCOPE)
    assert shown.code == 0, shown.err
    assert "firing" in shown.out and "ok (delivered)" in shown.out
    removed = cli("monitor", "alert", "remove", "watch", "tenure", "--json", *SCOPE)
    assert removed.code == 0 and json.loads(removed.out)["name"] == "tenure"
    assert json.loads(cli("monitor", "alert", "list", "watch", "--json", *SCOPE).out) == []
