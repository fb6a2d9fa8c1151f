"""``modelwright batch run``: a table (or JSON) on success, one line on bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.batch.conftest import Result, customers, fit, setup_world

import modelwright


def _world(tmp_path: Path) -> None:
    frame = customers(120)
    with modelwright.connect(tmp_path / "home") as client:
        setup_world(client, tmp_path / "lake", frame, fit(frame))


def test_batch_run_prints_a_summary(cli: Callable[..., Result], tmp_path: Path) -> None:
    _world(tmp_path)
    args = ["batch", "run", "models:/churn@champion", "--input", "customers@v1", "-w", "ml"]
    done = cli(*args, "--output", "scores", "--id-column", "cust", "--chunk-rows", "50")
    assert done.code == 0, done.err
    assert "Batch run" in done.out and "dev/scores@v1" in done.out
    assert "models:/churn/1" in done.out and "120" in done.out

    again = cli(*args, "--output", "scores2", "--executor", "inline", "--json")
    assert again.code == 0, again.err
    body = json.loads(again.out)
    assert body["output"]["name"] == "scores2" and body["rows"] == 120
    assert body["failed_rows"] == 0 and body["chunks"] == 1  # 120 rows, 100,000 a chunk

    runs = cli("runs", "list", "-w", "ml", "--experiment", "batch", "--json")
    assert runs.code == 0, runs.err
    assert sorted(r["name"] for r in json.loads(runs.out)) == ["batch scores", "batch scores2"]


def test_batch_run_bad_input_is_one_line(cli: Callable[..., Result], tmp_path: Path) -> None:
    _world(tmp_path)
    base = ["batch", "run", "--output", "scores", "-w", "ml", "--executor", "inline"]
    cases = {
        ("models:/churn@champion", "--input", "customers@v1", "--error-threshold", "2"): (
            "error_threshold: must be a share between 0 and 1"
        ),
        ("models:/churn@champion", "--input", "customers@v1", "--id-column", "id"): (
            "id_column: dev/customers@v1 has no column 'id'"
        ),
        ("models:/ghost@champion", "--input", "customers@v1"): "not_found",
        ("models:/churn@champion", "--input", "ghost@v1"): "not_found",
        ("churn", "--input", "customers@v1"): "uri: expected models:/",
    }
    for extra, message in cases.items():
        done = cli(*base[:2], extra[0], *base[2:], *extra[1:])
        assert done.code == 1, (extra, done.out)
        assert message in done.err, (extra, done.err)
        assert "Traceback" not in done.err and len(done.err.strip().splitlines()) == 1
