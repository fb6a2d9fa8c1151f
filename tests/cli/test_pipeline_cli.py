from __future__ import annotations

import json
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


NODES = """
import modelwright as mw
from modelwright.pipelines import node, pipeline


def make(n):
    return list(range(n))


def score(rows):
    mw.log_metric("rows_seen", len(rows))
    return {"accuracy": 0.5 + len(rows) / 100}


def explode(rows):
    lookup = {}
    return lookup[rows[1]]  # the failing line


PIPELINES = {
    "evaluate": pipeline([
        node(make, inputs="params:n", outputs="rows"),
        node(score, inputs="rows", outputs="scores"),
    ]),
    "broken": pipeline([
        node(make, inputs="params:n", outputs="rows"),
        node(explode, inputs="rows", outputs="never"),
    ]),
}
"""


def _project(root: Path) -> Path:
    (root / "conf" / "base").mkdir(parents=True)
    (root / "conf" / "base" / "parameters.yml").write_text("n: 10\n")
    (root / "conf" / "base" / "catalog.yml").write_text("scores: {type: metrics}\n")
    (root / "pipelines.py").write_text(NODES)
    return root


def test_evaluate_metrics_show_in_runs_list_under_the_project_experiment(
    cli: Run, tmp_path: Path
) -> None:
    project = _project(tmp_path / "shop")
    ran = cli("pipeline", "run", "evaluate", "-p", str(project), "--env", "dev")
    assert ran.code == 0, ran.err
    listed = cli("runs", "list", "--experiment", "shop-evaluate", "--json")
    assert listed.code == 0, listed.err
    runs = {r["name"]: r for r in json.loads(listed.out)}
    assert runs["pipeline evaluate"]["metrics"]["accuracy"] == 0.6
    assert runs["score"]["metrics"]["rows_seen"] == 10.0

    custom = cli(
        "pipeline", "run", "evaluate", "-p", str(project), "--env", "dev", "--experiment", "nightly"
    )
    assert custom.code == 0, custom.err
    assert "nightly" in cli("runs", "list", "--experiment", "nightly").out


def test_a_failed_node_names_the_users_line_in_the_error_and_in_runs_show(
    cli: Run, tmp_path: Path
) -> None:
    project = _project(tmp_path / "shop")
    failed = cli("pipeline", "run", "broken", "-p", str(project), "--env", "dev")
    assert failed.code == 1
    line = NODES.splitlines().index("    return lookup[rows[1]]  # the failing line") + 1
    where = (
        f"at {project / 'pipelines.py'}:{line} in explode: "
        "return lookup[rows[1]]  # the failing line"
    )
    lines = failed.err.strip().splitlines()
    assert lines[0] == "error (node_failed): node 'explode' failed: KeyError: 1"
    assert lines[1] == f"  {where}"

    runs = json.loads(cli("runs", "list", "--experiment", "shop-broken", "--json").out)
    child = next(r for r in runs if r["name"] == "explode")
    shown = cli("runs", "show", child["id"])
    assert shown.code == 0, shown.err
    assert "error: KeyError: 1" in shown.out and where in shown.out
    # The full traceback stays in the run's record.
    detail = json.loads(cli("runs", "show", child["id"], "--json").out)
    assert "Traceback (most recent call last)" in detail["error"]
