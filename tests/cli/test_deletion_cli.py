"""``runs delete/restore``, ``experiments delete/restore``, ``model delete-version``,
``datasets delete-version`` and ``gc``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
from tests.cli.conftest import Run

import modelwright


def _age(root: Path) -> None:
    then = time.time() - 3 * 3600
    for p in (root / "objects").rglob("*"):
        if p.is_file():
            os.utime(p, (then, then))


def test_delete_restore_and_collect_from_the_command_line(
    cli: Run, home: Path, tmp_path: Path
) -> None:
    assert cli("workspace", "create", "demo").code == 0
    lake = tmp_path / "lake"
    assert cli("datastore", "create", "demo", "dev", "lake", str(lake)).code == 0
    client = modelwright.connect(home)
    try:
        (tmp_path / "notes.txt").write_text("to be collected")
        with client.start_run("churn", workspace="demo", name="first") as run:
            client.log_artifact(run.id, tmp_path / "notes.txt")
        client.register_dataset(
            "customers", pd.DataFrame({"x": [1.0, 2.0]}), workspace="demo", environment="dev"
        )
    finally:
        client.close()

    deleted = cli("runs", "delete", run.id)
    assert deleted.code == 0, deleted.err
    assert f"run/{run.id} deleted; restorable, and deletable permanently from" in deleted.out
    listed = cli("runs", "list", "-w", "demo", "--json")
    assert json.loads(listed.out) == []
    listed = cli("runs", "list", "-w", "demo", "--view", "deleted_only", "--json")
    assert [r["id"] for r in json.loads(listed.out)] == [run.id]
    refused = cli("runs", "delete", run.id, "--permanent")
    assert refused.code != 0
    assert "after the retention of 30 days (MODELWRIGHT_DELETION_RETENTION_DAYS)" in refused.err
    assert "Traceback" not in refused.err
    restored = cli("runs", "restore", run.id)
    assert restored.code == 0 and f"run {run.id} restored" in restored.out

    gone = cli("experiments", "delete", "churn", "-w", "demo", "--json")
    assert gone.code == 0, gone.err
    assert json.loads(gone.out)["runs"] == [run.id]
    hidden = cli("experiments", "list", "-w", "demo", "--view", "deleted_only", "--json")
    assert [e["name"] for e in json.loads(hidden.out)] == ["churn"]
    back = cli("experiments", "restore", "churn", "-w", "demo")
    assert back.code == 0 and "experiment churn restored (1 runs)" in back.out

    dropped = cli("datasets", "delete-version", "customers@v1", "-w", "demo", "-e", "dev")
    assert dropped.code == 0, dropped.err
    assert "dev/customers@v1 deleted" in dropped.out
    missing = cli("model", "delete-version", "churn", "1", "-w", "demo")
    assert missing.code != 0 and "model 'churn' not found" in missing.err

    _age(lake)
    dry = cli("gc", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    report = json.loads(dry.out)
    assert report["dry_run"] and report["objects_freed"] >= 1 and report["bytes_freed"] > 0
    done = cli("gc")
    assert done.code == 0, done.err
    assert f"freed {report['objects_freed']} object(s)" in done.out
    assert "datastore demo/dev/lake" in done.out
