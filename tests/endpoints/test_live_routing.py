"""Live routing: routers report the table they route by; the platform compares it with the
endpoint's record; a rollout bakes only once the routers serve a step, and says loudly when
the routing after its end differs from the record."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest
from tests.conftest import Connector
from tests.endpoints.conftest import register_churn
from tests.endpoints.test_rollouts import served

from modelwright.client import Client
from modelwright.endpoints.routing_models import ReportRouting, RouteReport
from modelwright.errors import PermissionDenied
from modelwright.rollouts import steps as rollouts
from modelwright.workflows import Worker

Unchanged = Callable[[], AbstractContextManager[None]]
WHERE = {"workspace": "ml", "environment": "dev"}


@pytest.fixture
def endpoint(client: Client) -> Client:
    register_churn(client)
    client.create_endpoint("churn", **WHERE)
    client.deploy("churn", "blue", "churn", 1, **WHERE)
    return client


def report(
    connector: Connector,
    weights: dict[str, int],
    *,
    ready: list[str] | None = None,
    behind: int = 0,
    router: str = "router-a",
) -> None:
    """A router's report: routing ``weights`` at the endpoint's generation (less ``behind``)."""
    admin = connector.local_admin
    generation = admin.get_endpoint("churn", **WHERE).generation - behind
    admin.report_routing(
        ReportRouting(
            **WHERE,
            router=router,
            interval=5.0,
            endpoints=[
                RouteReport(
                    endpoint="churn",
                    generation=generation,
                    weights=weights,
                    ready=list(weights) if ready is None else ready,
                )
            ],
        )
    )


def test_the_record_beside_what_each_router_routes(endpoint: Client, connector: Connector) -> None:
    client = endpoint
    assert client.endpoint_routing("churn", **WHERE).state == "unobserved"
    report(connector, {"blue": 100})
    live = client.endpoint_routing("churn", **WHERE)
    assert (live.state, live.weights) == ("matches", {"blue": 100})
    assert [(r.router, r.serving, r.matches) for r in live.routers] == [
        ("router-a", {"blue": 100}, True)
    ]
    client.deploy("churn", "green", "churn", 2, **WHERE)
    client.set_traffic("churn", {"blue": 50, "green": 50}, **WHERE)
    # router-a has not followed yet; router-b follows but green's worker did not start.
    report(connector, {"blue": 50, "green": 50}, ready=["blue"], router="router-b")
    live = client.endpoint_routing("churn", **WHERE)
    assert live.state == "differs"
    problems = {r.router: r.problem for r in live.routers}
    assert "at generation 2, the record is at 4" in problems["router-a"]
    assert problems["router-b"] == "serves blue 50%, the record says blue 50%, green 50%"
    report(connector, {"blue": 50, "green": 50})
    report(connector, {"blue": 50, "green": 50}, router="router-b")
    assert client.endpoint_routing("churn", **WHERE).state == "matches"


def test_only_a_router_reports_and_readers_read(
    endpoint: Client, connector: Connector, unchanged: Unchanged
) -> None:
    client = endpoint
    client.create_principal("dana")
    client.grant("dana", "ml-engineer", "ml")
    dana = connector.as_principal("dana")
    table = ReportRouting(**WHERE, router="fake", interval=5.0, endpoints=[])
    with unchanged(), pytest.raises(PermissionDenied, match="only a router's service account"):
        dana.report_routing(table)
    assert dana.endpoint_routing("churn", **WHERE).state == "unobserved"
    client.create_principal("nobody")
    with pytest.raises(Exception, match="not found"):
        connector.as_principal("nobody").endpoint_routing("churn", **WHERE)


def test_a_step_bakes_once_the_routers_serve_it(
    endpoint: Client, connector: Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, worker = endpoint, Worker(connector.platform)
    report(connector, {"blue": 100})
    r = client.start_rollout(
        "churn", "green", "models:/churn/2", steps=[10, 100], bake_seconds=0,
        alarms=["server_error_rate > 0.05"], min_requests=5, **WHERE,
    )  # fmt: skip
    worker.run_once()
    r = client.get_rollout(r.id)
    # Shifted to 10 %, but the router still routes the old table: no bake, no judging yet.
    assert (r.status, r.weight, r.history) == ("running", 10, [])
    report(connector, {"blue": 90, "green": 10})
    served(connector, "green", ok=1)  # answered before the step was served: not in its window
    time.sleep(0.6)
    worker.run_once()
    r = client.get_rollout(r.id)
    assert r.status == "paused" and r.history[-1]["verdict"] == "no data"

    # A router that never starts the new deployment: the step is not served in time.
    monkeypatch.setattr(rollouts, "ROUTING_TIMEOUT", timedelta(0))
    client.resume_rollout(r.id)
    served(connector, "green", ok=10)
    worker.run_once()
    r = client.get_rollout(r.id)
    assert r.weight == 100 and r.status == "paused"
    assert r.history[-1]["verdict"] == "not served"
    assert "router router-a at generation 4, the record is at 5" in r.outcome


def test_a_rollback_that_the_routers_do_not_follow_is_said_loudly(
    endpoint: Client, connector: Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, worker = endpoint, Worker(connector.platform)
    monkeypatch.setattr(rollouts, "ROUTING_TIMEOUT", timedelta(0))
    r = client.start_rollout(
        "churn", "green", "models:/churn/2", steps=[10, 100], bake_seconds=0,
        alarms=["server_error_rate > 0.05"], min_requests=5, **WHERE,
    )  # fmt: skip
    worker.run_once()  # no router reports: nothing to wait for; no data yet
    client.resume_rollout(r.id)
    served(connector, "green", ok=5, server=5)
    report(connector, {"blue": 90, "green": 10}, behind=0)  # stuck on the canary's table
    worker.run_once()
    r = client.get_rollout(r.id)
    assert r.status == "routing_mismatch", r.outcome
    assert "rolled back at 10%" in r.outcome and "LIVE ROUTING DIFFERS" in r.outcome
    assert {d.name: d.weight for d in client.get_endpoint("churn", **WHERE).deployments} == {
        "blue": 100
    }


def test_an_abort_the_routers_do_not_follow_is_said_loudly_too(
    endpoint: Client, connector: Connector, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, worker = endpoint, Worker(connector.platform)
    monkeypatch.setattr(rollouts, "ROUTING_TIMEOUT", timedelta(0))
    r = client.start_rollout("churn", "green", "models:/churn/2", bake_seconds=3600, **WHERE)
    worker.run_once()  # deployed and shifted to 10 %, baking for an hour
    report(connector, {"blue": 90, "green": 10})
    client.abort_rollout(r.id)
    worker.run_once()  # the check after the abort: the router still sends green its share
    r = client.get_rollout(r.id)
    assert r.status == "routing_mismatch", r.outcome
    assert "aborted by admin" in r.outcome and "LIVE ROUTING DIFFERS" in r.outcome
