"""``monitor labels NAME --file`` as a user types it: CSV, Parquet, an empty file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.cli.conftest import Run, cli, home  # noqa: F401 (fixtures)
from tests.monitoring.monitor_data import FEATURES, capture_predictions, customers, records

import modelwright

pytest.importorskip("sklearn")

SCOPE = ["-w", "ml", "-e", "dev"]


def test_labels_files_are_sent_and_bad_ones_named(
    cli: Run,  # noqa: F811
    home: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
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
    made = cli("monitor", "create", "watch", "--endpoint", "churn", "--baseline",
               "customers@v1", "--signals", "performance,prediction", "--task",
               "classification", *SCOPE)  # fmt: skip
    assert made.code == 0, made.err
    ids = capture_predictions(lake, records(customers(2)[FEATURES]), [1, 1])
    csv = tmp_path / "labels.csv"
    pd.DataFrame({"request_id": [ids[0], "ghost"], "label": [1, 0]}).to_csv(csv, index=False)
    parquet = tmp_path / "labels.parquet"
    pd.DataFrame({"rid": [ids[1]], "y": [0]}).to_parquet(parquet)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    sent = cli("monitor", "labels", "watch", "--file", str(csv), *SCOPE)
    assert sent.code == 0, sent.err
    assert "2 label(s): 2 new, 0 replaced; unknown: 1 (e.g. ghost)" in sent.out
    sent = cli("monitor", "labels", "watch", "--file", str(parquet), "--id-column", "rid",
               "--label-column", "y", "--json", *SCOPE)  # fmt: skip
    assert sent.code == 0, sent.err
    assert json.loads(sent.out)["stored"] == 1
    bad = cli("monitor", "labels", "watch", "--file", str(empty), *SCOPE)
    assert bad.code == 1 and "is empty" in bad.err
    bad = cli("monitor", "labels", "watch", "--file", str(parquet), *SCOPE)
    assert bad.code == 1 and "no column 'request_id', 'label'" in bad.err
    ran = cli("monitor", "run", "watch", "--json", *SCOPE)
    assert ran.code == 0, ran.err + ran.out
    latest = {r["metric"]: r for r in json.loads(ran.out)["latest"]}
    assert latest["accuracy"]["value"] == 0.5
    assert latest["labelled_share"]["value"] == 1.0
    assert latest["unmatched_labels"]["value"] == 1.0
