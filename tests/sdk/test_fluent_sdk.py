"""The MLflow-style module-level SDK: experiments, runs, search as a DataFrame, artifacts of
every kind, inputs, and the registry lookups MLflow users reach for."""

from __future__ import annotations

import builtins
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression

import modelwright as mw
from modelwright.client import Client
from modelwright.registry.uri import ModelRef, parse_model_uri


def _artifact(client: Client, run_id: str, path: str, tmp_path: Path) -> Path:
    return client.download_artifacts(run_id, path, tmp_path / "dl")


def test_dir_lists_the_sdk_although_it_loads_lazily() -> None:
    names = dir(mw)
    for name in (
        "search_runs",
        "set_experiment",
        "start_run",
        "active_run",
        "end_run",
        "log_artifacts",
        "log_dict",
        "log_text",
        "log_figure",
        "log_table",
        "log_input",
        "get_run",
        "autolog",
        "sklearn",
    ):
        assert name in names and name in mw.__all__, name
    assert all(hasattr(mw, n) for n in mw.__all__)
    assert callable(mw.autolog) and callable(mw.sklearn.autolog)


def test_set_experiment_and_run_name(mw_client: Client) -> None:
    info = mw.set_experiment("churn")
    assert info.name == "churn" and info.runs == 0
    assert mw.set_experiment("churn").name == "churn"  # existing: used as it is
    with mw.start_run(run_name="baseline") as run:
        assert mw.active_run() is run
    assert mw.active_run() is None
    got = mw.get_run(run.id)
    assert (got.experiment, got.name, got.status) == ("churn", "baseline", "finished")
    with pytest.raises(mw.InvalidInput, match="run_name"):
        mw.start_run(name="a", run_name="b")


def test_end_run_takes_mlflows_spelling(mw_client: Client) -> None:
    run = mw.start_run()
    mw.end_run("FAILED")
    assert mw.get_run(run.id).status == "failed"
    assert mw.active_run() is None


def test_create_experiment_refuses_a_second_one(mw_client: Client) -> None:
    created = mw_client.create_experiment("risk", description="credit risk models")
    assert (created.name, created.description) == ("risk", "credit risk models")
    with pytest.raises(mw.AlreadyExists, match="experiment 'risk' already exists"):
        mw_client.create_experiment("risk")
    assert [e.name for e in mw_client.list_experiments()] == ["risk"]
    with pytest.raises(mw.InvalidInput, match="name"):
        mw_client.create_experiment("no spaces")


def test_search_runs_returns_mlflows_dataframe(mw_client: Client) -> None:
    for depth, auc in ((3, 0.8), (5, 0.9)):
        with mw.start_run("trees", run_name=f"d{depth}") as run:
            run.log_params({"depth": depth})
            run.log_metric("auc", auc)
            run.set_tag("team", "risk")
    frame = mw.search_runs("metrics.auc > 0.7", order_by=["metrics.auc DESC"], experiment="trees")
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns[:4]) == ["run_id", "run_name", "experiment_id", "experiment_name"]
    for column in ("status", "start_time", "end_time", "metrics.auc", "params.depth", "tags.team"):
        assert column in frame.columns
    assert list(frame["run_name"]) == ["d5", "d3"]
    assert list(frame["metrics.auc"]) == [0.9, 0.8]
    assert list(frame["params.depth"]) == ["5", "3"]
    assert str(frame["start_time"].dtype).endswith(", UTC]")
    runs = mw.search_runs("params.depth = '3'", output="list")
    assert isinstance(runs, list) and [r.name for r in runs] == ["d3"]
    empty = mw.search_runs("metrics.auc > 2")
    assert isinstance(empty, pd.DataFrame) and empty.empty and "run_id" in empty.columns
    with pytest.raises(mw.InvalidInput, match="output"):
        mw.search_runs(output="json")  # type: ignore[arg-type]


def test_artifacts_of_every_kind(mw_client: Client, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    table = pd.DataFrame({"feature": ["x", "y"], "importance": [0.7, 0.3]})
    with mw.start_run() as run:
        mw.log_artifacts(folder, "reports")
        mw.log_text("hello", "notes/readme.txt")
        mw.log_dict({"lr": 0.1, "layers": [1, 2]}, "config.json")
        mw.log_dict({"lr": 0.1}, "config.yaml")
        mw.log_table(table, "tables/importance.parquet")
    paths = sorted(a.path for a in mw.get_run(run.id).artifacts)
    assert paths == [
        "config.json",
        "config.yaml",
        "notes/readme.txt",
        "reports/a.txt",
        "reports/sub/b.txt",
        "tables/importance.parquet",
    ]
    assert _artifact(mw_client, run.id, "notes/readme.txt", tmp_path).read_text() == "hello"
    got = json.loads(_artifact(mw_client, run.id, "config.json", tmp_path).read_text())
    assert got == {"lr": 0.1, "layers": [1, 2]}
    assert yaml.safe_load(_artifact(mw_client, run.id, "config.yaml", tmp_path).read_text()) == {
        "lr": 0.1
    }
    back = pd.read_parquet(_artifact(mw_client, run.id, "tables/importance.parquet", tmp_path))
    pd.testing.assert_frame_equal(back, table)


def test_bad_artifact_input_names_the_field(mw_client: Client, tmp_path: Path) -> None:
    with mw.start_run():
        with pytest.raises(mw.InvalidInput, match=r"^local_dir: "):
            mw.log_artifacts(tmp_path / "missing")
        with pytest.raises(mw.InvalidInput, match=r"^artifact_file: "):
            mw.log_text("x", "../escape.txt")
        with pytest.raises(mw.InvalidInput, match=r"^artifact_file: .*Parquet"):
            mw.log_table(pd.DataFrame({"a": [1]}), "table.json")
        with pytest.raises(mw.InvalidInput, match=r"^data: "):
            mw.log_table([1, 2], "t.parquet")


def test_log_figure_says_when_matplotlib_is_missing(
    mw_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    monkeypatch.setattr("importlib.import_module", no_matplotlib)
    with mw.start_run(), pytest.raises(mw.InvalidInput, match="pip install matplotlib"):
        mw.log_figure(object(), "plot.png")


def test_log_figure_stores_a_matplotlib_figure(mw_client: Client, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    with mw.start_run() as run:
        mw.log_figure(fig, "plots/roc.png")
    assert _artifact(mw_client, run.id, "plots/roc.png", tmp_path).read_bytes()[:4] == b"\x89PNG"


def test_log_input_records_a_dataset_without_reading_it(mw_client: Client) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
    data = mw.register_dataset("toy", frame)
    with mw.start_run() as run:
        got = mw.log_input(data)
        assert got.version == data.version
        registered = mw.log_input(frame.assign(z=1), name="toy-wide")
        with pytest.raises(mw.InvalidInput, match=r"^name: "):
            mw.log_input(frame)
        with pytest.raises(mw.InvalidInput, match=r"^dataset: "):
            mw.log_input(42)
    ancestors = mw_client.lineage(f"run:{run.id}").ancestors
    refs = {n.label.split()[1] for n in ancestors if n.kind == "dataset_version"}
    assert refs == {f"dev/toy@v{data.version}", f"dev/toy-wide@v{registered.version}"}
    assert {n.relation for n in ancestors} == {"input"}


def test_model_lookups(mw_client: Client) -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 1, 0, 1]})
    model = LogisticRegression().fit(frame[["x"]], frame["y"])
    with mw.start_run() as run:
        first = mw.log_model(model, "toy", input_example=frame[["x"]])
        second = mw.log_model(model, "toy", input_example=frame[["x"]], tags={"team": "risk"})
        mw.log_model(model, "other", input_example=frame[["x"]])
    assert parse_model_uri("models:/toy/latest") == ModelRef(name="toy", latest=True)
    assert str(parse_model_uri("models:/toy/latest")) == "models:/toy/latest"
    assert mw_client.get_model_version("models:/toy/latest").version == second.version
    assert mw.load_model("models:/toy/latest").predict(frame[["x"]]) is not None

    mw_client.set_alias("toy", "champion", first.version)
    assert mw_client.get_model_version_by_alias("toy", "champion").version == first.version

    found = mw_client.search_model_versions("name = 'toy'")
    assert [v.version for v in found] == [second.version, first.version]
    assert [v.version for v in mw_client.search_model_versions("tags.team = 'risk'")] == [
        second.version
    ]
    assert {v.name for v in mw_client.search_model_versions(f"run_id = '{run.id}'")} == {
        "toy",
        "other",
    }
    assert [v.name for v in mw_client.search_model_versions("name LIKE 'oth%'")] == ["other"]
    assert len(mw_client.search_model_versions("", max_results=1)) == 1
    with pytest.raises(mw.InvalidInput, match=r"^filter_string: "):
        mw_client.search_model_versions("stage = 'Production'")
    with pytest.raises(mw.NotFound, match=r"no versions|not found"):
        mw_client.get_model_version("models:/missing/latest")
