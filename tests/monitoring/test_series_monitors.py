"""Monitors of a dataset series over both backends and both databases: each evaluation reads
the versions registered in its window; a shifted version drifts, an unshifted one does not,
and a window without a version is no data; bad requests and people without the right change
nothing."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import update
from tests.conftest import Connector
from tests.monitoring.monitor_data import customers

from modelwright.client import Client
from modelwright.errors import InvalidInput, NotFound, PermissionDenied
from modelwright.monitors.models import MonitorResult
from modelwright.monitors.series import read_series
from modelwright.store import schema
from modelwright.workflows import Worker

Unchanged = Callable[[], AbstractContextManager[None]]
WHERE = {"workspace": "ml", "environment": "dev"}
SERIES = {"dataset": "scores", "baseline": "customers@v1", **WHERE}


def scored(rows: int = 200, *, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """A batch output that kept its inputs: the features, an id and the prediction."""
    frame = customers(rows, seed=seed, shift=shift).drop(columns=["churned"])
    frame["prediction"] = (frame["tenure"] > 0).astype(int)
    frame["_row"] = range(rows)
    return frame


def age(connector: Connector, name: str, hours: float = 2.0) -> None:
    """Every version of ``name`` registered so far was registered ``hours`` ago."""
    ids = schema.Dataset.__table__.c
    with connector.platform.engine.begin() as conn:
        found = conn.execute(
            schema.Dataset.__table__.select().where(ids.name == name)
        ).one()  # fmt: skip
        conn.execute(
            update(schema.DatasetVersion)
            .where(schema.DatasetVersion.dataset_id == found.id)
            .values(created_at=datetime.now(UTC) - timedelta(hours=hours))
        )


@pytest.fixture
def series(client: Client, connector: Connector, tmp_path: object) -> None:
    """ml/dev with a datastore, the baseline customers@v1 and the series scores@v1 (two
    hours old); alice scientist, vera viewer."""
    client.apply(
        {
            "principals": [{"name": "alice"}, {"name": "vera"}],
            "workspaces": [
                {
                    "name": "ml",
                    "environments": [
                        {"name": "dev", "datastores": [{"name": "lake", "url": f"{tmp_path}/l"}]}
                    ],
                    "grants": [
                        {"principal": "alice", "role": "data-scientist"},
                        {"principal": "vera", "role": "viewer"},
                    ],
                }
            ],
        }
    )
    client.register_dataset("customers", customers(), **WHERE)
    client.register_dataset("scores", scored(seed=1), **WHERE)
    age(connector, "scores")


def evaluate(client: Client, connector: Connector, name: str = "watch") -> None:
    run = client.run_monitor(name, wait=False, **WHERE)
    Worker(connector.platform).run_once()
    job = client.get_job(run.job_id)
    assert job.status == "succeeded", job.error


def value(
    rows: list[MonitorResult], signal: str, metric: str, feature: str | None = None
) -> MonitorResult:
    found = [r for r in rows if (r.signal, r.metric, r.feature) == (signal, metric, feature)]
    assert len(found) == 1, (signal, metric, feature, rows)
    return found[0]


def test_a_shifted_version_drifts_an_unshifted_one_does_not_and_none_is_no_data(
    series: None, client: Client, connector: Connector
) -> None:
    m = client.create_monitor(
        "watch", signals=["drift", "quality", "prediction"], baseline_predictions="label",
        label_column="churned", **SERIES,
    )  # fmt: skip
    assert (m.kind, m.dataset, m.endpoint) == ("series", "scores", None)
    assert m.features is None and m.prediction_column == "prediction"

    evaluate(client, connector)  # v1 is older than the window
    empty = client.get_monitor("watch", **WHERE)
    assert empty.status == "no_data"
    assert {r.status for r in empty.latest} == {"no_data"}
    assert (
        "no version of scores registered in the window"
        in value(empty.latest, "drift", "drift_share").detail
    )
    assert value(empty.latest, "prediction", "drift").value is None

    client.register_dataset("scores", scored(seed=3), **WHERE)
    evaluate(client, connector)
    calm = client.get_monitor("watch", **WHERE)
    drift = value(calm.latest, "drift", "drift_share")
    assert drift.status == "ok" and drift.value is not None and drift.value < 0.5
    assert value(calm.latest, "drift", "drift", "tenure").status == "ok"
    assert "200 row(s) of 1 version(s) (v2)" in drift.detail
    assert {r.feature for r in calm.latest if (r.signal, r.metric) == ("drift", "drift")} == {
        "tenure",
        "calls",
        "plan",
    }
    assert value(calm.latest, "quality", "rows").value == 200
    assert value(calm.latest, "prediction", "drift").status in ("ok", "alert")

    age(connector, "scores")
    client.register_dataset("scores", scored(seed=5, shift=2.0), **WHERE)
    evaluate(client, connector)
    shifted = client.get_monitor("watch", **WHERE)
    assert shifted.status == "alert"
    tenure = value(shifted.latest, "drift", "drift", "tenure")
    assert tenure.status == "alert" and tenure.value is not None and tenure.value < 0.05
    assert value(shifted.latest, "quality", "rows").value == 200  # v3 alone: v2 is old
    history = client.monitor_history("watch", signal="drift", feature="tenure", **WHERE)
    assert [r.status for r in history] == ["no_data", "ok", "alert"]
    events = connector.local_admin.events(kind="monitor.evaluated")
    assert [e.data["dataset"] for e in events] == ["scores"] * 3
    listed = client.list_monitors(dataset="scores")
    assert [(x.name, x.kind) for x in listed] == [("watch", "series")]
    assert client.list_monitors(endpoint="churn") == []
    # The report draws the window's versions of the series against the baseline.
    html, report = client.monitor_report("watch", **WHERE)
    tenure_hist = next(h for h in report.histograms if h.feature == "tenure")
    assert report.current_rows == 200 and sum(tenure_hist.current) > 0
    assert "scores" in html


def test_a_large_window_is_sampled_within_the_limit() -> None:
    """The sampler keeps each version's share of the limit and says so."""
    versions = [{"ref": "a", "version": 1, "rows": 300}, {"ref": "b", "version": 2, "rows": 100}]
    frames = {"a": pd.DataFrame({"x": range(300), "y": 0}), "b": pd.DataFrame({"x": range(100)})}
    current, total, detail = read_series(frames.__getitem__, versions, ["x"], limit=40)
    assert (len(current), total, list(current.columns)) == (40, 400, ["x"])
    assert "400 row(s) of 2 version(s) (v1, v2); a uniform sample of 40 row(s)" in detail
    again, _, _ = read_series(frames.__getitem__, versions, ["x"], limit=40)
    assert again.equals(current)  # a replay compares the same rows


def test_service_and_performance_and_bad_input_are_refused_and_change_nothing(
    series: None, client: Client, unchanged: Unchanged
) -> None:
    def create(**kw: object) -> None:
        client.create_monitor("watch", **{**SERIES, **kw})  # type: ignore[arg-type]

    for signal in ("service", "performance"):
        with unchanged(), pytest.raises(InvalidInput, match=f"{signal} need.*an endpoint"):
            create(signals=["drift", signal])
    with unchanged(), pytest.raises(InvalidInput, match="exactly one") as bad:
        create(endpoint="churn")
    with unchanged(), pytest.raises(InvalidInput, match="endpoint, dataset: give exactly one"):
        client.create_monitor("watch", baseline="customers@v1", **WHERE)
    with unchanged(), pytest.raises(InvalidInput, match="no dataset 'nope'") as bad:
        create(dataset="nope")
    assert bad.value.details["field"] == "dataset"
    with unchanged(), pytest.raises(InvalidInput, match=r"lacks the column.*'income'") as bad:
        create(features=["tenure", "income"])
    assert bad.value.details["missing_columns"] == ["income"]
    with unchanged(), pytest.raises(InvalidInput, match="no column 'prediction'"):
        create(signals=["prediction"])  # the baseline holds no predictions
    with unchanged(), pytest.raises(NotFound, match="has no version v7"):
        create(baseline="customers@v7")
    create(features=["tenure"])
    m = client.get_monitor("watch", **WHERE)
    assert (m.signals, m.features) == (["drift", "quality"], ["tenure"])
    with unchanged(), pytest.raises(InvalidInput, match="dataset series 'scores'"):
        client.log_labels("watch", pd.DataFrame({"request_id": ["r"], "label": [1]}), **WHERE)


def test_a_series_monitor_needs_data_write_and_readers_read_it(
    series: None, client: Client, connector: Connector, unchanged: Unchanged
) -> None:
    alice, vera = connector.as_principal("alice"), connector.as_principal("vera")
    with unchanged(), pytest.raises(PermissionDenied, match=r"data\.write"):
        vera.create_monitor("watch", **SERIES)
    alice.create_monitor("watch", **SERIES)  # a scientist writes data: no endpoint.deploy
    client.register_dataset("scores", scored(seed=3), **WHERE)
    evaluate(alice, connector)
    assert vera.get_monitor("watch", **WHERE).status == "ok"
    assert [x.name for x in vera.list_monitors()] == ["watch"]
    assert len(vera.monitor_history("watch", signal="drift", **WHERE)) == 4
    for attempt in (vera.run_monitor, vera.delete_monitor):
        with unchanged(), pytest.raises(PermissionDenied, match=r"data\.write"):
            attempt("watch", **WHERE)
    connector.local_admin.create_principal("olga")
    olga = connector.as_principal("olga")
    assert olga.list_monitors() == []
    with pytest.raises((NotFound, PermissionDenied)):
        olga.get_monitor("watch", **WHERE)
    alice.delete_monitor("watch", **WHERE)
    assert client.list_monitors() == []
