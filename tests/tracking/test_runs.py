"""Runs through both backends (in process and HTTP) on both databases."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest
from tests.conftest import Connector

from modelwright.client import Client
from modelwright.errors import Conflict, InvalidInput, NotFound, PermissionDenied


@pytest.fixture
def ws(client: Client) -> str:
    client.create_workspace("ml")
    return "ml"


def test_run_records_params_metrics_tags_and_snapshot(client: Client, ws: str) -> None:
    with client.start_run("churn", workspace=ws, name="baseline", tags={"team": "growth"}) as run:
        run.log_params({"depth": 5, "lr": 0.1})
        for step in range(100):
            run.log_metric("loss", 1 / (step + 1), step=step)
        run.log_metric("auc", 0.91)
        run.set_tag("stage", "tuning")
    detail = client.get_run(run.id)
    assert detail.status == "finished"
    assert detail.ended_at is not None and detail.ended_at >= detail.started_at
    assert detail.environment == "dev" and detail.experiment == "churn"
    assert detail.params == {"depth": "5", "lr": "0.1"}
    assert detail.metrics == {"loss": pytest.approx(0.01), "auc": 0.91}
    assert detail.tags == {"team": "growth", "stage": "tuning"}
    assert detail.snapshot["python"].count(".") == 2
    assert any(p.startswith("sqlalchemy==") for p in detail.snapshot["packages"])
    history = client.metric_history(run.id, "loss")
    assert history.steps == list(range(100))
    assert history.values[0] == 1.0 and history.values[-1] == pytest.approx(0.01)


def test_nan_and_infinity_are_kept(client: Client, ws: str) -> None:
    with client.start_run("x", workspace=ws) as run:
        run.log_metric("m", float("nan"), step=0)
        run.log_metric("m", float("inf"), step=1)
        run.log_metric("m", float("-inf"), step=2)
        run.log_metric("last_nan", float("nan"))
    h = client.metric_history(run.id, "m")
    assert math.isnan(h.values[0]) and h.values[1] == math.inf and h.values[2] == -math.inf
    assert math.isnan(client.get_run(run.id).metrics["last_nan"])
    found = client.search_runs("metrics.m < 0", workspace=ws)
    assert [r.id for r in found] == [run.id]  # the latest point (step 2) is -inf


def test_a_run_that_raises_is_failed_with_the_error(client: Client, ws: str) -> None:
    run = client.start_run("x", workspace=ws)

    def fail() -> None:
        with run:
            run.log_metric("m", 1.0)
            raise ValueError("bad data")

    with pytest.raises(ValueError, match="bad data"):
        fail()
    detail = client.get_run(run.id)
    assert detail.status == "failed"
    assert "ValueError: bad data" in detail.error
    assert detail.metrics == {"m": 1.0}  # what was logged before the error is kept


def test_bad_input_is_refused_and_nothing_partial_is_stored(client: Client, ws: str) -> None:
    run = client.start_run("x", workspace=ws)
    with pytest.raises(InvalidInput, match="metric 'm': value must be a number, got str"):
        run.log_metric("m", "high")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="at most 250 characters"):
        run.log_metric("k" * 251, 1.0)
    with pytest.raises(InvalidInput, match="metric key"):
        run.log_metric("a/../b", 1.0)
    # A batch with one bad point stores none of it.
    with pytest.raises(InvalidInput):
        client.log_batch(run.id, metrics=[("ok", 1.0, 0, 1), ("bad key!", 2.0, 0, 1)])
    with pytest.raises(NotFound):
        client.metric_history(run.id, "ok")
    run.log_param("depth", 5)
    run.flush()
    with pytest.raises(Conflict, match="params are immutable"):
        client.log_batch(run.id, params={"depth": 6, "new": 1})
    assert client.get_run(run.id).params == {"depth": "5"}
    run.end()
    with pytest.raises(Conflict, match="is finished: nothing more can be logged"):
        client.log_batch(run.id, metrics=[("m", 1.0, 0, 1)])
    with pytest.raises(NotFound, match="run '0123456789abcdef0123456789abcdef' not found"):
        client.get_run("0123456789abcdef0123456789abcdef")
    with pytest.raises(InvalidInput, match="run id must be 32 lowercase hex"):
        client.get_run("../../etc")


def test_search_filters_and_orders(client: Client, ws: str) -> None:
    ids = {}
    for name, depth, auc, team in (("a", 3, 0.7, "x"), ("b", 5, 0.91, "y"), ("c", 5, 0.85, "x")):
        with client.start_run("exp", workspace=ws, name=name, tags={"team": team}) as run:
            run.log_params({"depth": depth})
            run.log_metric("auc", auc)
        ids[name] = run.id
    with client.start_run("other", workspace=ws, name="d") as run:
        run.log_param("depth", 5)
    ids["d"] = run.id

    def names(flt: str, **kw: object) -> list[str]:
        return [r.name for r in client.search_runs(flt, workspace=ws, **kw)]  # type: ignore[arg-type]

    assert names("metrics.auc > 0.8 and params.depth = '5'", order_by=["metrics.auc DESC"]) == [
        "b",
        "c",
    ]
    assert names("params.depth = 5", order_by=["name"]) == ["b", "c", "d"]
    assert names("tags.team = 'x'", order_by=["metrics.auc"]) == ["a", "c"]
    assert names("name in ('a', 'd')", order_by=["name DESC"]) == ["d", "a"]
    assert names("name like 'b%'") == ["b"]
    assert names("status = 'finished'", experiment="other") == ["d"]
    # Runs without the metric sort last, ascending or descending.
    assert names("", order_by=["metrics.auc DESC"])[-1] == "d"
    assert names("", order_by=["metrics.auc ASC"])[-1] == "d"
    for bad, message in (
        ("metrics.auc >> 1", "expected a quoted string or a number"),
        ("metrics.auc > 'x'", "metrics compare with numbers"),
        ("color = 'red'", "unknown attribute 'color'"),
        ("metrics.auc > 1 or name = 'a'", "only 'and' is supported"),
    ):
        with pytest.raises(InvalidInput, match=message):
            client.search_runs(bad, workspace=ws)
    comparison = client.compare_runs([ids["a"], ids["b"]])
    assert comparison.params == {"depth": ["3", "5"]}
    assert comparison.metrics == {"auc": [0.7, 0.91]}
    three = client.compare_runs([ids["c"], ids["b"], ids["d"]])
    assert three.run_ids == [ids["c"], ids["b"], ids["d"]]
    assert three.same_params == {"depth": "5"}
    assert three.metrics == {"auc": [0.85, 0.91, None]}
    with pytest.raises(InvalidInput, match="run_ids: give at least two runs to compare"):
        client.compare_runs([ids["a"]])


def test_artifacts_round_trip_and_lineage(client: Client, ws: str, tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(b"\x00\x01" * 1000)
    (tmp_path / "model" / "conf").mkdir()
    (tmp_path / "model" / "conf" / "params.json").write_text('{"a": 1}')
    (tmp_path / "report.txt").write_text("ok")
    with client.start_run("x", workspace=ws) as run:
        run.log_artifact(tmp_path / "model", "model")
        run.log_artifact(tmp_path / "report.txt")
    detail = client.get_run(run.id)
    assert [a.path for a in detail.artifacts] == [
        "model/conf/params.json",
        "model/weights.bin",
        "report.txt",
    ]
    out = client.download_artifacts(run.id, "model", tmp_path / "down")
    assert (out / "weights.bin").read_bytes() == b"\x00\x01" * 1000
    assert (out / "conf" / "params.json").read_text() == '{"a": 1}'
    graph = client.lineage(f"run:{run.id}", workspace=ws)
    assert graph.entity.kind == "run"
    assert sorted(n.label.split()[1] for n in graph.descendants) == [
        "model/conf/params.json",
        "model/weights.bin",
        "report.txt",
    ]
    with pytest.raises(InvalidInput, match="does not exist"):
        client.log_artifact(run.id, tmp_path / "missing")


def test_permissions(connector: Connector, client: Client, ws: str) -> None:
    client.create_principal("vera")
    client.create_principal("sam")
    client.create_principal("eve")
    client.grant("vera", "viewer", ws)
    client.grant("sam", "data-scientist", ws, "dev")
    with client.start_run("x", workspace=ws) as run:
        run.log_metric("m", 1.0)
    viewer = connector.as_principal("vera")
    assert viewer.get_run(run.id).metrics == {"m": 1.0}
    with pytest.raises(PermissionDenied, match=r"may not pipeline\.run"):
        viewer.start_run("x", workspace=ws)
    scientist = connector.as_principal("sam")
    with scientist.start_run("x", workspace=ws) as mine:
        mine.log_metric("m", 2.0)
    with pytest.raises(
        PermissionDenied, match=r"pipeline\.run in workspace 'ml', environment 'staging'"
    ):
        scientist.start_run("x", workspace=ws, environment="staging")
    outsider = connector.as_principal("eve")
    with pytest.raises(NotFound):
        outsider.get_run(run.id)
    with pytest.raises(NotFound):
        outsider.search_runs("", workspace=ws)
    # compared in one request, each run checked: one the caller may not read spoils it
    assert viewer.compare_runs([run.id, mine.id]).metrics == {"m": [1.0, 2.0]}
    with pytest.raises(NotFound, match=f"run '{run.id}' not found"):
        outsider.compare_runs([run.id, mine.id])


def test_buffered_points_reach_the_store_in_the_background(
    client: Client, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELWRIGHT_FLUSH_INTERVAL", "0.05")
    run = client.start_run("x", workspace=ws)
    for i in range(10):
        run.log_metric("m", float(i), step=i)
    deadline = time.monotonic() + 10
    while True:
        try:
            if len(client.metric_history(run.id, "m").values) == 10:
                break
        except NotFound:
            pass
        assert time.monotonic() < deadline, "points were not flushed in the background"
        time.sleep(0.05)
    run.end()
