from __future__ import annotations

import shutil
from pathlib import Path

from tests.cli.conftest import Run

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn_pipeline"


def test_list_show_run_and_explain(cli: Run, tmp_path: Path, home: Path) -> None:
    project = tmp_path / "churn"
    shutil.copytree(EXAMPLE, project)
    listed = cli("pipeline", "list", "--project", str(project))
    assert listed.code == 0, listed.err
    assert "train" in listed.out and "modelling" in listed.out
    shown = cli("pipeline", "show", "train", "--project", str(project))
    assert "└── make_customers" in shown.out and "evaluate" in shown.out

    first = cli("pipeline", "run", "train", "--project", str(project), "--env", "dev")
    assert first.code == 0, first.err
    assert "5 ran, 0 cached" in first.out
    # The embedded default workspace gives dev a datastore under the home; relative catalog
    # paths land there.
    assert (home.resolve() / "data" / "default" / "dev" / "data" / "metrics.json").exists()

    again = cli("pipeline", "run", "train", "-p", str(project), "--env", "dev", "--explain")
    assert again.code == 0, again.err
    assert "0 ran, 5 cached" in again.out and "same code, inputs" in again.out

    changed = cli(
        "pipeline",
        "run",
        "train",
        "-p",
        str(project),
        "--env",
        "dev",
        "--params",
        "model.epochs=10",
    )
    assert "2 ran, 3 cached" in changed.out


def test_bad_override_is_one_line_error(cli: Run) -> None:
    result = cli("pipeline", "run", "train", "-p", str(EXAMPLE), "--params", "nope=1")
    assert result.code == 1
    assert "unknown parameter 'nope'" in result.err
