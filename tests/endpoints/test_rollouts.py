"""Rollouts over both backends and both databases: each step is judged on the new
deployment's own serving statistics (as routers flush them), no data pauses, an alarm rolls
back at once, and bad requests change nothing."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import pytest
from tests.conftest import Connector
from tests.endpoints.conftest import register_churn

from modelwright.client import Client
from modelwright.endpoints.stats_models import (
    BUCKETS,
    LATENCY_BOUNDS_MS,
    RecordServingStats,
    StatsRow,
)
from modelwright.errors import Conflict, InvalidInput, PermissionDenied
from modelwright.workflows import Worker

Unchanged = Callable[[], AbstractContextManager[None]]
WHERE = {"workspace": "ml", "environment": "dev"}
_SEQ = itertools.count(1)


@pytest.fixture
def endpoint(client: Client) -> Client:
    register_churn(client)
    client.create_endpoint("churn", **WHERE)
    client.deploy("churn", "blue", "churn", 1, **WHERE)
    return client


def served(
    connector: Connector,
    deployment: str,
    ok: int,
    server: int = 0,
    ms: float = 5.0,
    where: dict[str, str] = WHERE,
) -> None:
    """A router's flush for the requests it just answered (ending now)."""
    buckets = [0] * BUCKETS
    buckets[bisect.bisect_left(LATENCY_BOUNDS_MS, ms)] = ok + server
    end = datetime.now(UTC)
    connector.local_admin.record_serving_stats(
        RecordServingStats(
            **where,
            router="router-a",
            seq=next(_SEQ),
            started_at=end - timedelta(seconds=1),
            ended_at=end,
            rows=[
                StatsRow(
                    endpoint="churn",
                    deployment=deployment,
                    requests=ok + server,
                    server_errors=server,
                    latency_sum_ms=ms * (ok + server),
                    latency_buckets=buckets,
                )
            ],
        )
    )


def weights(client: Client) -> dict[str, int]:
    return {d.name: d.weight for d in client.get_endpoint("churn", **WHERE).deployments}


def test_a_healthy_canary_takes_all_traffic_and_no_data_pauses_instead_of_passing(
    endpoint: Client, connector: Connector
) -> None:
    client, worker = endpoint, Worker(connector.platform)
    r = client.start_rollout(
        "churn", "green", "models:/churn/2", steps=[50, 100], bake_seconds=0,
        alarms=["server_error_rate > 0.1", "p99_ms > 250"], min_requests=10, **WHERE,
    )  # fmt: skip
    assert (r.status, r.stable, r.steps) == ("running", "blue", [50, 100])
    worker.run_once()
    r = client.get_rollout(r.id)
    assert (r.status, r.weight) == ("paused", 50)  # nothing reached green yet: inconclusive
    assert "no data at 50%" in r.outcome and "inconclusive" in r.outcome
    assert weights(client) == {"blue": 50, "green": 50}

    client.resume_rollout(r.id)
    served(connector, "green", ok=20)
    served(connector, "blue", ok=5, server=5)  # the old deployment's errors are not green's
    worker.run_once()
    r = client.get_rollout(r.id)
    assert [h["verdict"] for h in r.history] == ["no data", "pass", "no data"]
    assert (r.status, r.weight) == ("paused", 100)
    client.resume_rollout(r.id)
    served(connector, "green", ok=30)
    worker.run_once()
    r = client.get_rollout(r.id)
    assert r.status == "succeeded", r.outcome
    assert weights(client) == {"green": 100}  # blue retired
    assert r.history[-2]["requests"] == 30 and r.history[-2]["verdict"] == "pass"
    # No router reports its routing here (the flushes above stand in for one): said so.
    assert r.history[-1]["verdict"] == "routing unobserved"
    assert "live routing not verified" in r.outcome


def test_an_alarm_sends_all_traffic_back_at_once_and_says_which(
    endpoint: Client, connector: Connector
) -> None:
    client, worker = endpoint, Worker(connector.platform)
    r = client.start_rollout(
        "churn", "green", "models:/churn/2", steps=[10, 100], bake_seconds=0,
        alarms=["server_error_rate > 0.05"], **WHERE,
    )  # fmt: skip
    worker.run_once()
    client.resume_rollout(r.id)
    served(connector, "green", ok=18, server=2)
    worker.run_once()
    r = client.get_rollout(r.id)
    assert r.status == "rolled_back"
    assert "server_error_rate > 0.05 (was 0.1)" in r.outcome and "20 request(s)" in r.outcome
    assert weights(client) == {"blue": 100}
    assert client.get_job(r.job_id or 0).status == "succeeded"
    kinds = [e.data["action"] for e in connector.local_admin.events(kind="rollout.changed")]
    assert kinds == [
        "rollout.start",
        "rollout.pause",
        "rollout.resume",
        "rollout.rollback",
        "rollout.verify",
    ]


def test_abort_restores_the_stable_deployment_and_stops_the_job(
    endpoint: Client, connector: Connector
) -> None:
    client = endpoint
    r = client.start_rollout("churn", "green", "models:/churn/2", bake_seconds=3600, **WHERE)
    Worker(connector.platform).run_once()  # deployed, shifted to 10 %, baking for an hour
    assert weights(client) == {"blue": 90, "green": 10}
    r = client.abort_rollout(r.id)
    assert (r.status, r.weight) == ("aborted", 0)
    assert weights(client) == {"blue": 100}
    assert client.get_job(r.job_id or 0).status == "cancelled"
    with pytest.raises(Conflict, match="aborted already"):
        client.abort_rollout(r.id)
    # The routers must follow an abort too: a job checks (none reports here: said so).
    Worker(connector.platform).run_once()
    r = client.get_rollout(r.id)
    assert (r.status, r.history[-1]["verdict"]) == ("aborted", "routing unobserved")
    assert "live routing not verified" in r.outcome


def test_bad_rollouts_are_refused_and_change_nothing(
    endpoint: Client, connector: Connector, unchanged: Unchanged
) -> None:
    client = endpoint
    with unchanged(), pytest.raises(InvalidInput, match="unknown signal 'p98_ms'"):
        client.start_rollout("churn", "green", "models:/churn/2", alarms=["p98_ms > 1"], **WHERE)
    with unchanged(), pytest.raises(InvalidInput, match="not a threshold"):
        client.start_rollout("churn", "green", "models:/churn/2", alarms=["p99_ms >> 1"], **WHERE)
    with unchanged(), pytest.raises(InvalidInput, match="must increase and end at 100"):
        client.start_rollout("churn", "green", "models:/churn/2", steps=[50, 20], **WHERE)
    with unchanged(), pytest.raises(Conflict, match="exists on endpoint"):
        client.start_rollout("churn", "blue", "models:/churn/2", **WHERE)
    client.create_endpoint("churn", workspace="ml", environment="staging")
    with unchanged(), pytest.raises(Conflict, match="not available in environment 'staging'"):
        client.start_rollout(
            "churn", "green", "models:/churn/2", workspace="ml", environment="staging"
        )
    r = client.start_rollout("churn", "green", "models:/churn/2", **WHERE)
    with (
        unchanged(),
        pytest.raises(Conflict, match=f"rollout {r.id} on endpoint 'churn' is in progress"),
    ):
        client.start_rollout("churn", "green2", "models:/churn/2", **WHERE)
    admin = connector.local_admin
    admin.create_principal("vera")
    admin.grant("vera", "viewer", workspace="ml")
    vera = connector.as_principal("vera")
    with unchanged(), pytest.raises(PermissionDenied, match=r"endpoint\.deploy"):
        vera.abort_rollout(r.id)


def test_too_few_requests_that_fail_already_roll_back_instead_of_pausing(
    endpoint: Client, connector: Connector
) -> None:
    client, worker = endpoint, Worker(connector.platform)
    r = client.start_rollout(
        "churn", "green", "models:/churn/2", steps=[10, 100], bake_seconds=0,
        alarms=["server_error_rate > 0.5", "error_rate > 0.05"], min_requests=10, **WHERE,
    )  # fmt: skip
    worker.run_once()  # nothing reached green: no data
    client.resume_rollout(r.id)
    # 2 of 3 failed: too few to judge in general, but 2 of 10 would already exceed 0.05.
    served(connector, "green", ok=1, server=2)
    worker.run_once()
    r = client.get_rollout(r.id)
    assert r.status == "rolled_back", r.outcome
    assert "error_rate > 0.05 (was 0.666667; at least 0.2 whatever the other 7" in r.outcome
    assert "server_error_rate" not in r.outcome  # 2 of 10 would not exceed 0.5
    assert weights(client) == {"blue": 100}
