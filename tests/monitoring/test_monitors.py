"""Monitors over both backends and both databases: created on an endpoint, evaluated as a
workflow job (its drift and quality values computed in a child process from the captured
requests), stored as a time series; bad requests and people without the right change nothing."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, update
from tests.conftest import Connector
from tests.monitoring.monitor_data import FEATURES, capture, customers, records

from modelwright.client import Client
from modelwright.endpoints.stats_models import (
    BUCKETS,
    LATENCY_BOUNDS_MS,
    RecordServingStats,
    StatsRow,
)
from modelwright.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from modelwright.monitors.models import MonitorResult
from modelwright.store import schema
from modelwright.workflows import Worker

pytest.importorskip("sklearn")

Unchanged = Callable[[], AbstractContextManager[None]]
WHERE = {"workspace": "ml", "environment": "dev"}
_SEQ = itertools.count(1)


@pytest.fixture
def lake(client: Client, connector: Connector, tmp_path: Path) -> Path:
    """ml/dev with a datastore, a model of tenure, calls and plan served by endpoint churn
    (deployment blue), the baseline customers@v1; alice scientist, vera viewer."""
    from sklearn.dummy import DummyClassifier

    lake = tmp_path / "lake"
    client.apply(
        {
            "principals": [{"name": "alice"}, {"name": "vera"}],
            "workspaces": [
                {
                    "name": "ml",
                    "environments": [
                        {"name": "dev", "datastores": [{"name": "lake", "url": str(lake)}]},
                        {"name": "prod", "production": True},
                    ],
                    "grants": [
                        {"principal": "alice", "role": "data-scientist"},
                        {"principal": "vera", "role": "viewer"},
                    ],
                }
            ],
        }
    )
    base = customers()
    client.register_dataset("customers", base, **WHERE)
    client.register_dataset("other", base.drop(columns=["plan", "calls"]), **WHERE)
    with client.start_run("churn", **WHERE) as run:
        model = DummyClassifier().fit(base[FEATURES], base["churned"])
        run.log_model(model, "churn", input_example=base[FEATURES].head())
    client.create_endpoint("churn", **WHERE)
    client.deploy("churn", "blue", "churn", 1, **WHERE)
    return lake


def evaluate(client: Client, connector: Connector, name: str = "watch") -> None:
    run = client.run_monitor(name, wait=False, **WHERE)
    Worker(connector.platform).run_once()
    job = client.get_job(run.job_id)
    assert job.status == "succeeded", job.error


def served(connector: Connector, ok: int, errors: int = 0, ms: float = 20.0) -> None:
    """A router's flush for the requests it just answered."""
    buckets = [0] * BUCKETS
    buckets[bisect.bisect_left(LATENCY_BOUNDS_MS, ms)] = ok + errors
    end = datetime.now(UTC)
    connector.local_admin.record_serving_stats(
        RecordServingStats(
            **WHERE, router="router-a", seq=next(_SEQ),
            started_at=end - timedelta(seconds=1), ended_at=end,
            rows=[
                StatsRow(
                    endpoint="churn", deployment="blue", requests=ok + errors,
                    server_errors=errors, latency_sum_ms=ms * (ok + errors),
                    latency_buckets=buckets,
                )
            ],
        )
    )  # fmt: skip


def value(rows: list[MonitorResult], metric: str, feature: str | None = None) -> MonitorResult:
    found = [r for r in rows if r.metric == metric and r.feature == feature]
    assert len(found) == 1, (metric, feature, rows)
    return found[0]


def test_a_shifted_window_alerts_and_every_value_is_kept_as_a_time_series(
    lake: Path, client: Client, connector: Connector
) -> None:
    m = client.create_monitor(
        "watch", endpoint="churn", baseline="customers@v1", window_seconds=3600,
        thresholds={"error_rate": 0.01}, **WHERE,
    )  # fmt: skip
    assert (m.baseline, m.signals, m.status, m.latest) == (
        "customers@v1", ["drift", "quality", "service"], None, []
    )  # fmt: skip
    assert m.thresholds["error_rate"] == 0.01 and m.thresholds["drift_share"] == 0.5

    capture(lake, records(customers(200, seed=3)), per_request=4)
    served(connector, ok=50)
    evaluate(client, connector)
    first = client.get_monitor("watch", **WHERE)
    assert first.status == "ok", [r for r in first.latest if r.status != "ok"]
    assert value(first.latest, "rows").value == 200
    assert value(first.latest, "drift", "tenure").detail == "K-S p_value"
    assert value(first.latest, "error_rate").value == 0.0
    assert value(first.latest, "throughput").value == pytest.approx(50 / 3600)
    assert value(first.latest, "p50_ms").value is not None

    shifted = customers(200, seed=5, shift=2.0)
    shifted.loc[:19, "plan"] = "enterprise"
    capture(lake, records(shifted), per_request=4)
    served(connector, ok=45, errors=5)
    evaluate(client, connector)
    latest = client.get_monitor("watch", **WHERE)
    assert latest.status == "alert"
    assert latest.last_evaluated_at is not None and first.last_evaluated_at is not None
    assert latest.last_evaluated_at > first.last_evaluated_at
    tenure = value(latest.latest, "drift", "tenure")
    assert tenure.status == "alert" and tenure.value is not None and tenure.value < 0.05
    assert value(latest.latest, "rows").value == 400  # both captures are in the hour
    assert value(latest.latest, "unseen_share", "plan").value == pytest.approx(20 / 400)
    rate = value(latest.latest, "error_rate")
    assert (rate.value, rate.threshold, rate.status) == (5 / 100, 0.01, "alert")

    series = client.monitor_history("watch", signal="drift", feature="tenure", **WHERE)
    assert [r.status for r in series] == ["ok", "alert"]
    assert series[0].window_end - series[0].window_start == timedelta(hours=1)
    assert {r.signal for r in client.monitor_history("watch", **WHERE)} == {
        "drift", "quality", "service"
    }  # fmt: skip
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert client.monitor_history("watch", since=later, **WHERE) == []
    events = connector.local_admin.events(kind="monitor.evaluated")
    assert [e.data["status"] for e in events] == ["ok", "alert"]


def test_an_empty_window_is_no_data_never_no_drift(
    lake: Path, client: Client, connector: Connector
) -> None:
    client.create_monitor("watch", endpoint="churn", baseline="customers@v1", **WHERE)
    evaluate(client, connector)
    m = client.get_monitor("watch", **WHERE)
    assert m.status == "no_data"
    assert {r.status for r in m.latest} == {"no_data"}
    assert value(m.latest, "drift_share").value is None
    assert value(m.latest, "rows").value == 0
    assert "no captured request in the window" in value(m.latest, "rows").detail
    assert value(m.latest, "error_rate").value is None


def test_a_schedule_starts_evaluations_and_goes_with_its_monitor(
    lake: Path, client: Client, connector: Connector
) -> None:
    client.create_monitor(
        "watch", endpoint="churn", baseline="customers@v1", schedule="*/5 * * * *",
        signals=["service"], **WHERE,
    )  # fmt: skip
    with connector.platform.engine.begin() as conn:  # the next occurrence is due now
        conn.execute(update(schema.Schedule).values(next_at=datetime.now(UTC)))
    Worker(connector.platform).run_once()
    m = client.get_monitor("watch", **WHERE)
    assert [r.metric for r in m.latest] == ["error_rate", "p50_ms", "p99_ms", "throughput"]
    assert m.status == "no_data"
    assert [x.name for x in client.list_monitors(workspace="ml")] == ["watch"]
    client.delete_monitor("watch", **WHERE)
    with connector.platform.engine.connect() as conn:
        assert conn.execute(select(schema.Schedule.name)).all() == []
        assert conn.execute(select(schema.MonitorResult.id)).all() == []
    with pytest.raises(NotFound, match="monitor 'watch' not found"):
        client.get_monitor("watch", **WHERE)


def test_a_baseline_changed_model_is_an_error_value_naming_the_columns(
    lake: Path, client: Client, connector: Connector
) -> None:
    client.create_monitor("watch", endpoint="churn", baseline="customers@v1", **WHERE)
    # The endpoint now serves a model whose inputs the baseline lacks.
    with client.start_run("churn", **WHERE) as run:
        x = pd.DataFrame({"tenure": np.zeros(4), "income": np.ones(4)})
        from sklearn.dummy import DummyClassifier

        run.log_model(DummyClassifier().fit(x, [0, 1, 0, 1]), "churn", input_example=x)
    client.deploy("churn", "green", "churn", 2, weight=0, **WHERE)
    client.set_traffic("churn", {"green": 100}, **WHERE)
    evaluate(client, connector)
    m = client.get_monitor("watch", **WHERE)
    assert m.status == "error"
    errors = [r for r in m.latest if r.status == "error"]
    assert [r.signal for r in errors] == ["drift", "quality"]
    assert "lacks the model's input column(s) 'income'" in errors[0].detail


def test_bad_monitors_are_refused_and_change_nothing(
    lake: Path, client: Client, unchanged: Unchanged
) -> None:
    def create(**kw: object) -> None:
        fields: dict[str, object] = {"endpoint": "churn", "baseline": "customers@v1", **WHERE}
        client.create_monitor("watch", **{**fields, **kw})  # type: ignore[arg-type]

    with unchanged(), pytest.raises(InvalidInput, match="schedule") as bad:
        create(schedule="every five minutes")
    assert bad.value.details["field"] == "schedule"
    with unchanged(), pytest.raises(InvalidInput, match="schedule"):
        create(schedule="61 * * * *")
    with unchanged(), pytest.raises(InvalidInput, match=r"lacks the model's input column\(s\)"):
        create(baseline="other@v1")
    with unchanged(), pytest.raises(InvalidInput, match="'calls', 'plan'") as bad:
        create(baseline="other@v1")
    assert bad.value.details["missing_columns"] == ["calls", "plan"]
    with unchanged(), pytest.raises(InvalidInput, match="thresholds"):
        create(thresholds={"p98_ms": 1.0})
    with unchanged(), pytest.raises(InvalidInput, match="window_seconds"):
        create(window_seconds=1)
    with unchanged(), pytest.raises(NotFound, match="endpoint 'nope'"):
        create(endpoint="nope")
    with unchanged(), pytest.raises(NotFound, match="has no version v7"):
        create(baseline="customers@v7")
    create(schedule="*/5 * * * *")
    with unchanged(), pytest.raises(Conflict, match="monitor 'watch' exists"):
        create()


def test_creating_needs_endpoint_deploy_and_readers_read_the_history(
    lake: Path, client: Client, connector: Connector, unchanged: Unchanged
) -> None:
    alice, vera = connector.as_principal("alice"), connector.as_principal("vera")
    with unchanged(), pytest.raises(PermissionDenied, match=r"endpoint\.deploy"):
        alice.create_monitor("watch", endpoint="churn", baseline="customers@v1", **WHERE)
    client.create_monitor("watch", endpoint="churn", baseline="customers@v1", **WHERE)
    evaluate(client, connector)
    assert vera.get_monitor("watch", **WHERE).status == "no_data"
    assert len(vera.monitor_history("watch", signal="service", **WHERE)) == 4
    assert [m.name for m in vera.list_monitors()] == ["watch"]
    for attempt in (vera.run_monitor, vera.delete_monitor):
        with unchanged(), pytest.raises(PermissionDenied, match=r"endpoint\.deploy"):
            attempt("watch", **WHERE)
    outsider = connector.local_admin
    outsider.create_principal("olga")
    olga = connector.as_principal("olga")
    assert olga.list_monitors() == []
    with pytest.raises(NotFound):
        olga.monitor_history("watch", **WHERE)
