"""Alert rules of monitors over both backends and both databases: a condition held for N
evaluations in a row fires once, resolves once, a window without data does neither; each
transition reaches its sinks from the workflow (a real webhook receiver checks signature
and body) and is kept with its deliveries; bad rules and people without the right change
nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from tests.conftest import Connector
from tests.monitoring.alert_receiver import Receiver, verify
from tests.monitoring.monitor_data import capture, customers, records
from tests.monitoring.test_monitors import WHERE, evaluate, lake  # noqa: F401 (a fixture)

from modelwright.client import Client
from modelwright.core.context import Context
from modelwright.core.platform import LOCAL_ADMIN, Platform
from modelwright.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from modelwright.monitors.service import record_evaluation
from modelwright.monitors.sinks import WebhookSink, get_sink, register_sink
from modelwright.tasks._monitor import _notify

pytest.importorskip("sklearn")

Unchanged = Callable[[], AbstractContextManager[None]]
SECRET = "whsec-0123456789abcdef"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fast_webhook() -> Iterator[None]:
    """The webhook sink waiting milliseconds between attempts instead of seconds."""
    builtin = get_sink("webhook")
    assert builtin is not None
    register_sink(
        WebhookSink(attempts=3, backoff=0.01, timeout=5, allow_private=True), replace=True
    )
    yield
    register_sink(builtin, replace=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


class _Flow:
    """What the monitor workflow's steps use of their flow: a unit as the job's starter."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    @contextmanager
    def unit(self) -> Iterator[Context]:
        with self.platform.unit(self.platform.caller(LOCAL_ADMIN)) as ctx:
            yield ctx


def evaluated(connector: Connector, client: Client, n: int, share: float | None) -> None:
    """The record and notify steps of the ``n``-th evaluation of monitor watch, whose
    drift share was ``share`` (None: an empty window)."""
    platform = connector.platform
    monitor_id = client.get_monitor("watch", **WHERE).id
    at = T0 + timedelta(minutes=5 * n)
    plan = {"window_start": (at - timedelta(hours=1)).isoformat(), "window_end": at.isoformat()}
    status = "no_data" if share is None else "alert" if share >= 0.5 else "ok"
    row = {"signal": "drift", "metric": "drift_share", "feature": None, "value": share,
           "threshold": 0.5, "status": status, "detail": ""}  # fmt: skip
    with platform.unit(platform.caller(LOCAL_ADMIN)) as ctx:
        record_evaluation(ctx, monitor_id, plan, {"rows": [row], "error": None}, None)
    _notify(cast("Any", _Flow(platform)), monitor_id)


def watch(client: Client) -> None:
    client.create_monitor(
        "watch", endpoint="churn", baseline="customers@v1", signals=["drift"], **WHERE
    )


def test_three_breaches_in_a_row_fire_once_and_one_good_window_resolves_once(
    lake: Path,  # noqa: F811
    client: Client,
    connector: Connector,
    receiver: Receiver,
) -> None:
    watch(client)
    rule = client.add_alert_rule(
        "watch", "drifting", when="drift.share >= 0.5", consecutive=3,
        sinks=[f"webhook:{receiver.url}"], secret=SECRET, **WHERE,
    )  # fmt: skip
    assert (rule.condition, rule.state, rule.signed) == ("drift.drift_share >= 0.5", "ok", True)
    assert "secret" not in rule.model_dump()

    def states() -> tuple[str, int]:
        [r] = client.list_alert_rules("watch", **WHERE)
        return r.state, r.breaches

    evaluated(connector, client, 1, 0.6)
    evaluated(connector, client, 2, 0.7)
    assert states() == ("ok", 2) and receiver.received == []
    evaluated(connector, client, 3, 0.8)
    assert states() == ("firing", 3) and len(receiver.received) == 1
    evaluated(connector, client, 4, 0.9)  # still firing: not notified again
    evaluated(connector, client, 5, None)  # no data: neither breach nor resolution
    assert states() == ("firing", 4) and len(receiver.received) == 1
    evaluated(connector, client, 6, 0.2)
    assert states() == ("resolved", 0) and len(receiver.received) == 2
    evaluated(connector, client, 7, 0.1)
    assert states() == ("resolved", 0) and len(receiver.received) == 2

    for headers, body in receiver.received:
        assert verify(SECRET, headers, body)
    fired, resolved = receiver.alerts()
    at = T0 + timedelta(minutes=15)
    assert fired == {
        "workspace": "ml", "environment": "dev", "monitor": "watch", "endpoint": "churn",
        "dataset": None, "rule": "drifting", "condition": "drift.drift_share >= 0.5", "state": "firing",
        "value": 0.8, "threshold": 0.5, "consecutive": 3, "evaluated_at": at.isoformat(),
        "window": {"start": (at - timedelta(hours=1)).isoformat(), "end": at.isoformat()},
        "summary": "[FIRING] ml/dev monitor watch, rule drifting: drift.drift_share >= 0.5 "
        "held for 3 evaluation(s) in a row (now 0.8)",
    }  # fmt: skip
    assert (resolved["state"], resolved["value"]) == ("resolved", 0.2)
    assert "http" not in fired["summary"]

    history = client.alert_history("watch", **WHERE)
    assert [(e.state, e.value) for e in history] == [("resolved", 0.2), ("firing", 0.8)]
    assert all(e.deliveries and e.deliveries[0].ok for e in history)
    events = connector.local_admin.events(kind="alert.firing")
    assert [(e.data["rule"], e.data["value"]) for e in events] == [("drifting", 0.8)]
    assert len(connector.local_admin.events(kind="alert.resolved")) == 1


def test_a_window_without_data_neither_breaks_nor_extends_a_streak(
    lake: Path,  # noqa: F811
    client: Client,
    connector: Connector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch(client)
    client.add_alert_rule("watch", "drifting", when="drift.share >= 0.5", consecutive=2, **WHERE)
    evaluated(connector, client, 1, 0.6)
    evaluated(connector, client, 2, None)
    [r] = client.list_alert_rules("watch", **WHERE)
    assert (r.state, r.breaches, r.value) == ("ok", 1, 0.6)
    with caplog.at_level("INFO", logger="modelwright.alerts"):
        evaluated(connector, client, 3, 0.6)
    assert client.list_alert_rules("watch", **WHERE)[0].state == "firing"
    [line] = [r.getMessage() for r in caplog.records if r.name == "modelwright.alerts"]
    assert line.startswith("[FIRING] ml/dev monitor watch, rule drifting")
    evaluated(connector, client, 3, 0.1)  # a replay of a recorded evaluation changes nothing
    assert client.list_alert_rules("watch", **WHERE)[0].state == "firing"


def test_the_monitor_workflow_delivers_retrying_a_receiver_that_fails_twice(
    lake: Path,  # noqa: F811
    client: Client,
    connector: Connector,
) -> None:
    client.create_monitor("watch", endpoint="churn", baseline="customers@v1", **WHERE)
    with Receiver(fail_first=2) as receiver:
        client.add_alert_rule(
            "watch", "tenure", when="drift.drift[tenure] < 0.05",
            sinks=[f"webhook:{receiver.url}", "log"], secret=SECRET, **WHERE,
        )  # fmt: skip
        capture(lake, records(customers(200, seed=3)), per_request=4)
        evaluate(client, connector)
        assert receiver.calls == 0
        capture(lake, records(customers(200, seed=5, shift=2.0)), per_request=4)
        evaluate(client, connector)
    [(headers, body)] = receiver.received
    assert verify(SECRET, headers, body) and receiver.calls == 3
    [fired] = client.alert_history("watch", **WHERE)
    assert fired.state == "firing" and fired.value is not None and fired.value < 0.05
    assert fired.delivered_at is not None
    assert [(d.sink, d.ok, d.attempts) for d in fired.deliveries] == [
        (f"webhook:{receiver.url}", True, 3), ("log", True, 1)
    ]  # fmt: skip


def test_bad_rules_are_refused_and_change_nothing(
    lake: Path,  # noqa: F811
    client: Client,
    unchanged: Unchanged,
) -> None:
    watch(client)

    def add(**kw: Any) -> None:
        fields: dict[str, Any] = {"when": "drift.share >= 0.5", "sinks": ["log"], **WHERE}
        client.add_alert_rule("watch", "r", **{**fields, **kw})

    cases: list[tuple[dict[str, Any], str]] = [
        ({"when": "nope.share > 1"}, "unknown signal 'nope'"),
        ({"when": "drift.p99 > 1"}, "unknown metric 'p99' of signal drift"),
        ({"when": "drift.share => 1"}, "is not a condition"),
        ({"when": "service.p99_ms > 250"}, "does not evaluate the service signal"),
        ({"consecutive": 0}, "consecutive"),
        ({"sinks": ["webhook:file:///etc/passwd"]}, "only http and https URLs"),
        ({"sinks": ["webhook:ftp://example.com/x"]}, "only http and https URLs"),
        ({"sinks": ["pager"]}, "no alert sink named 'pager'"),
        ({"sinks": []}, "sinks"),
        ({"secret": "short"}, "secret"),
        ({"signal": "drift"}, "not both"),
    ]
    for kw, message in cases:
        with unchanged(), pytest.raises(InvalidInput, match=message):
            add(**kw)
    with unchanged(), pytest.raises(InvalidInput, match="does not evaluate the quality"):
        add(when=None, signal="quality", metric="rows", operator="<", threshold=10)
    add(when=None, signal="drift", metric="drift_share", operator=">", threshold=0.4)
    with unchanged(), pytest.raises(Conflict, match="alert rule 'r' exists"):
        add()
    with unchanged(), pytest.raises(NotFound, match="alert rule 'nope' not found"):
        client.remove_alert_rule("watch", "nope", **WHERE)
    with unchanged(), pytest.raises(NotFound, match="monitor 'other' not found"):
        client.add_alert_rule("other", "r", when="drift.share >= 0.5", **WHERE)


def test_changing_rules_needs_endpoint_deploy_and_readers_read_them(
    lake: Path,  # noqa: F811
    client: Client,
    connector: Connector,
    unchanged: Unchanged,
) -> None:
    watch(client)
    client.create_principal("eric")
    client.grant("eric", "ml-engineer", "ml")
    alice, vera, eric = (connector.as_principal(p) for p in ("alice", "vera", "eric"))
    with unchanged(), pytest.raises(PermissionDenied, match=r"endpoint\.deploy"):
        alice.add_alert_rule("watch", "r", when="drift.share >= 0.5", **WHERE)
    eric.add_alert_rule("watch", "r", when="drift.share >= 0.5", **WHERE)
    # A command runs a shell on the workers: a platform administrator's decision.
    with unchanged(), pytest.raises(PermissionDenied, match=r"access\.manage"):
        eric.add_alert_rule(
            "watch", "c", when="drift.share >= 0.5", sinks=["command:true"], **WHERE
        )
    client.add_alert_rule("watch", "c", when="drift.share >= 0.5", sinks=["command:true"], **WHERE)
    assert [r.name for r in vera.list_alert_rules("watch", **WHERE)] == ["r", "c"]
    assert vera.alert_history("watch", **WHERE) == []
    with unchanged(), pytest.raises(PermissionDenied, match=r"endpoint\.deploy"):
        vera.remove_alert_rule("watch", "r", **WHERE)
    connector.local_admin.create_principal("olga")
    olga = connector.as_principal("olga")
    with pytest.raises(NotFound):
        olga.list_alert_rules("watch", **WHERE)
    eric.remove_alert_rule("watch", "r", **WHERE)
    assert [r.name for r in client.list_alert_rules("watch", **WHERE)] == ["c"]
