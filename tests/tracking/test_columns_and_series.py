"""What a table or a chart of runs reads: chosen columns, the keys there are to choose, and
a series thinned for a chart. Through both backends on both databases."""

from __future__ import annotations

import math

import pytest
from tests.conftest import Connector

from modelwright.client import Client
from modelwright.errors import InvalidInput, NotFound
from modelwright.tracking import series as series_module


@pytest.fixture
def ws(client: Client) -> str:
    client.create_workspace("ml")
    return "ml"


def _runs(client: Client, ws: str) -> None:
    for name, depth, auc in (("a", 3, 0.7), ("b", 5, 0.91)):
        with client.start_run("exp", workspace=ws, name=name, tags={"team": "x"}) as run:
            run.log_params({"depth": depth, "lr": 0.1})
            run.log_metric("auc", auc)
            run.log_metric("loss", 0.5)
    with client.start_run("other", workspace=ws, name="c") as run:
        run.log_param("seed", 1)
        run.log_metric("f1", 0.4)


def test_a_search_reads_only_the_chosen_columns(client: Client, ws: str) -> None:
    _runs(client, ws)
    chosen = client.search_runs(
        workspace=ws, experiment="exp", order_by=["name"], columns=["metrics.auc", "params.depth"]
    )
    assert [(r.name, r.metrics, r.params, r.tags) for r in chosen] == [
        ("a", {"auc": 0.7}, {"depth": "3"}, {}),
        ("b", {"auc": 0.91}, {"depth": "5"}, {}),
    ]
    # Sorting and filtering on columns not chosen still work: only the answer is narrower.
    bare = client.search_runs(
        "params.lr = '0.1'", workspace=ws, order_by=["metrics.auc DESC"], columns=[]
    )
    assert [(r.name, r.metrics, r.params, r.tags) for r in bare] == [
        ("b", {}, {}, {}),
        ("a", {}, {}, {}),
    ]
    whole = client.search_runs(workspace=ws, experiment="exp", order_by=["name"])
    assert whole[0].params == {"depth": "3", "lr": "0.1"} and whole[0].tags == {"team": "x"}
    assert client.search_runs(workspace=ws, columns=["tags.team"], order_by=["name"])[0].tags == {
        "team": "x"
    }
    for bad, message in (
        (["colour"], "columns: unknown attribute 'colour'"),
        (["name"], "columns: 'name' is not a column to choose"),
    ):
        with pytest.raises(InvalidInput, match=message):
            client.search_runs(workspace=ws, columns=bad)


def test_the_columns_of_an_experiment_are_its_runs_keys(
    connector: Connector, client: Client, ws: str
) -> None:
    _runs(client, ws)
    exp = client.run_columns("exp", workspace=ws)
    assert (exp.metrics, exp.params, exp.tags) == (["auc", "loss"], ["depth", "lr"], ["team"])
    every = client.run_columns(workspace=ws)
    assert every.metrics == ["auc", "f1", "loss"] and every.params == ["depth", "lr", "seed"]
    assert client.run_columns("nothing-here", workspace=ws).metrics == []
    client.create_principal("eve")
    with pytest.raises(NotFound):
        connector.as_principal("eve").run_columns("exp", workspace=ws)


def test_a_thinned_series_keeps_its_extremes_and_says_how_long_it_is(
    client: Client, ws: str
) -> None:
    run = client.start_run("exp", workspace=ws, snapshot=False)
    points = []
    for step in range(1000):
        value = 1.0 / (1 + step)  # a falling loss...
        if step == 501:
            value = 7.0  # ...with one spike
        if 800 <= step < 900 or 950 <= step < 960:
            value = math.nan  # ...and stretches of NaN
        points.append(("loss", value, step, 1_000 + step))
    client.log_batch(run.id, metrics=points)
    run.end()
    full = client.metric_history(run.id, "loss")
    assert full.total == 1000 and full.steps == list(range(1000))
    thin = client.metric_history(run.id, "loss", max_points=20)
    assert thin.total == 1000 and len(thin.steps) <= 20
    assert thin.steps == sorted(thin.steps) and thin.steps[0] == 0
    finite = [v for v in thin.values if not math.isnan(v)]
    assert max(finite) == 7.0 and min(finite) == min(v for v in full.values if v == v)
    # Falling, the first bucket is drawn from its largest value down to its smallest.
    assert thin.values[:2] == [1.0, 1.0 / 100]
    # Buckets of 100 steps: one of NaN only is a gap; one with some NaN keeps its numbers.
    gap = thin.steps.index(800)
    assert math.isnan(thin.values[gap]) and thin.steps[gap + 1] == 900
    assert thin.values[-2:] == [1.0 / 901, 1.0 / 1000]
    # As many points as steps or more: the series as it is.
    same = client.metric_history(run.id, "loss", max_points=2000)
    assert same.steps == full.steps
    assert [v if v == v else None for v in same.values] == [
        v if v == v else None for v in full.values
    ]
    with pytest.raises(InvalidInput, match="max_points"):
        client.metric_history(run.id, "loss", max_points=1)
    with pytest.raises(NotFound, match="has no metric 'acc'"):
        client.metric_history(run.id, "acc", max_points=100)


def test_the_chart_of_a_running_run_follows_its_points_and_an_ended_one_stays(
    client: Client, ws: str
) -> None:
    run = client.start_run("exp", workspace=ws, snapshot=False)
    client.log_batch(run.id, metrics=[("m", float(i), i, 1) for i in range(100)])
    assert client.metric_history(run.id, "m", max_points=10).total == 100
    client.log_batch(run.id, metrics=[("m", 500.0, 100, 2)])
    grown = client.metric_history(run.id, "m", max_points=10)
    assert grown.total == 101 and max(grown.values) == 500.0
    run.end()
    for _ in range(2):  # read, then kept: the same answer
        ended = client.metric_history(run.id, "m", max_points=10)
        assert (ended.steps, ended.values, ended.total) == (grown.steps, grown.values, 101)


def test_a_long_series_of_an_ended_run_is_charted_from_its_outline(
    client: Client, ws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Smaller than in use, so that a test writes few points: outlines from 500 points, of 200.
    monkeypatch.setattr(series_module, "OUTLINE_FROM", 500)
    monkeypatch.setattr(series_module, "OUTLINE_POINTS", 200)
    ended = client.start_run("exp", workspace=ws, snapshot=False)
    killed = client.start_run("exp", workspace=ws, snapshot=False)
    for run in (ended, killed):
        points = []
        for step in range(3000):
            value = math.sin(step / 100)
            if step == 1234:
                value = 50.0
            if step == 2500:
                value = -50.0
            if 300 <= step < 600:
                value = math.nan
            points.append(("wave", value, step, 1_000 + step))
        client.log_batch(run.id, metrics=points)
        client.log_batch(run.id, metrics=[("short", 1.0, 0, 1)])
    ended.end()
    client.kill_run(killed.id)

    # From here a chart of a long series must not read every point again.
    def every_point(*args: object, **kwargs: object) -> None:
        raise AssertionError("the series was thinned from every point")

    with monkeypatch.context() as patched:
        patched.setattr(series_module, "_thinned", every_point)
        for run in (ended, killed):
            thin = client.metric_history(run.id, "wave", max_points=40)
            assert thin.total == 3000 and len(thin.steps) <= 40
            assert (
                thin.steps == sorted(set(thin.steps)) and 0 <= thin.steps[0] < thin.steps[-1] < 3000
            )
            # Extremes survive thinning twice.
            assert 50.0 in thin.values and -50.0 in thin.values
            assert any(math.isnan(v) for v in thin.values)  # a gap stays a gap
    for run in (ended, killed):
        # A short series has no outline and reads as before.
        assert client.metric_history(run.id, "short", max_points=40).values == [1.0]
