"""``modelwright datasets list/show/register/diff``."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from tests.cli.conftest import Run

import modelwright

RULE = "production data is never reachable from non-production environments"


@pytest.fixture
def demo(cli: Run, tmp_path: Path) -> Path:
    assert cli("workspace", "create", "demo").code == 0
    lake = tmp_path / "lake"
    assert cli("datastore", "create", "demo", "dev", "lake", str(lake)).code == 0
    vault = str(tmp_path / "vault")
    made = cli(
        "datastore", "create", "demo", "prod", "vault", vault, "--classification", "production"
    )
    assert made.code == 0, made.err
    return lake


def _csv(path: Path, n: int, extra: bool = False) -> Path:
    df = pd.DataFrame({"id": range(n), "city": ["paris", "lyon"] * (n // 2)})
    if extra:
        df["score"] = 0.5
    df.to_csv(path, index=False)
    return path


def test_register_list_show_diff(cli: Run, demo: Path, tmp_path: Path) -> None:
    first = cli("datasets", "register", "people", str(_csv(tmp_path / "a.csv", 10)), "-w", "demo")
    assert first.code == 0, first.err
    assert "registered demo/dev/people@v1 (file, csv" in first.out
    same = cli("datasets", "register", "people", str(tmp_path / "a.csv"), "-w", "demo")
    assert "unchanged, already demo/dev/people@v1" in same.out
    second = cli(
        "datasets",
        "register",
        "people",
        str(_csv(tmp_path / "b.csv", 20, extra=True)),
        "-w",
        "demo",
        "--description",
        "the people",
        "--json",
    )
    assert second.code == 0, second.err
    info = json.loads(second.out)
    assert (info["version"], info["created"], info["profile"]["rows"]) == (2, True, 20)

    listed = cli("datasets", "list", "-w", "demo")
    assert listed.code == 0
    assert "people" in listed.out and "v2" in listed.out
    rows = json.loads(cli("datasets", "list", "-w", "demo", "--json").out)
    assert [(r["name"], r["versions"]) for r in rows] == [("people", 2)]

    shown = cli("datasets", "show", "people", "-w", "demo")
    assert shown.code == 0, shown.err
    assert "Versions" in shown.out and "v1" in shown.out and "Profile (20 rows)" in shown.out
    assert "paris" in shown.out  # the top values (the table may wrap them on narrow consoles)
    one = cli("datasets", "show", "people@v1", "-w", "demo", "--json")
    assert json.loads(one.out)["profile"]["columns"]["id"]["max"] == 9

    diff = cli("datasets", "diff", "people@v1", "@v2", "-w", "demo")
    assert diff.code == 0, diff.err
    assert "Schema changes" in diff.out and "score" in diff.out and "added" in diff.out
    assert "Profile changes" in diff.out
    d = json.loads(cli("datasets", "diff", "people@v1", "people@v2", "-w", "demo", "--json").out)
    assert d["schema_changed"] is True and d["rows"] == [10, 20]


def test_register_a_directory(cli: Run, demo: Path, tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    for i in range(30):
        (root / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (root / f"d{i % 3}" / f"{i}.bin").write_bytes(bytes([i]) * (i + 1))
    r = cli("datasets", "register", "blobs", str(root), "-w", "demo", "--json")
    assert r.code == 0, r.err
    info = json.loads(r.out)
    assert (info["kind"], info["files"], info["size"]) == ("directory", 30, sum(range(1, 31)))
    shown = cli("datasets", "show", "blobs@latest", "-w", "demo")
    assert "no schema or profile" in shown.out


def test_errors_are_one_line(cli: Run, demo: Path, tmp_path: Path) -> None:
    r = cli("datasets", "register", "x", str(tmp_path / "nope.csv"), "-w", "demo")
    assert r.code == 1
    assert r.err.strip().splitlines() == [
        f"error (invalid_input): source: '{tmp_path / 'nope.csv'}' does not exist"
    ]
    r = cli("datasets", "show", "ghost@v1", "-w", "demo")
    assert r.code == 1
    assert "dataset 'ghost' not found in demo/dev" in r.err
    assert list(demo.glob("objects/**/*")) == []


def test_isolation_holds_through_the_cli(cli: Run, demo: Path, home: Path, tmp_path: Path) -> None:
    with modelwright.connect(home) as client:
        run = client.start_run("x", workspace="demo", environment="dev", snapshot=False)
        r = cli(
            "datasets",
            "register",
            "secret",
            str(_csv(tmp_path / "s.csv", 4)),
            "-w",
            "demo",
            "-e",
            "prod",
            "--run-id",
            run.id,
        )
        assert r.code == 1
        assert f"run '{run.id}' in non-production environment 'dev'" in r.err
        assert RULE in r.err
        assert not (tmp_path / "vault" / "objects").exists()
        run.end()


def test_copy_is_the_way_out_of_production(cli: Run, demo: Path, tmp_path: Path) -> None:
    data = str(_csv(tmp_path / "p.csv", 10))
    assert cli("datasets", "register", "people", data, "-w", "demo", "-e", "prod").code == 0
    refused = cli("datasets", "register", "people", data, "-w", "demo", "-e", "dev")
    assert refused.code == 1 and "holds production data" in refused.err
    copied = cli(
        "datasets", "copy", "prod/people@v1", "--to", "dev", "--reason", "sample", "-w", "demo"
    )
    assert copied.code == 0, copied.err
    assert "copied prod/people@v1 to demo/dev/people@v1" in copied.out
    missing = cli("datasets", "copy", "prod/people@v1", "--to", "dev", "-w", "demo")
    assert missing.code != 0 and "--reason" in missing.err
