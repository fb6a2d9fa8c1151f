"""Serving statistics in the platform: flushes of several routers add up, a repeated flush adds
nothing, "no data" is not "no errors", windows, series, retention and permissions."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from tests.conftest import Connector

from modelwright.api import endpoints as ops
from modelwright.client import Client
from modelwright.endpoints.stats import quantile
from modelwright.endpoints.stats_models import (
    BUCKETS,
    LATENCY_BOUNDS_MS,
    RecordServingStats,
    StatsRow,
)
from modelwright.errors import InvalidInput, NotFound, PermissionDenied
from modelwright.store import schema

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _now() -> None:
    """Each test's "now": windows such as "the last 5 minutes" are taken from the real clock,
    so flushes must be dated from when the test runs, not from when the module was imported
    (a long session puts minutes between the two)."""
    global NOW  # noqa: PLW0603
    NOW = datetime.now(UTC).replace(microsecond=0)


WHERE = {"workspace": "ml", "environment": "dev"}


def row(
    deployment: str | None,
    ok: int = 0,
    client: int = 0,
    server: int = 0,
    shed: int = 0,
    ms: float = 10.0,
    endpoint: str = "churn",
) -> StatsRow:
    buckets = [0] * BUCKETS
    buckets[bisect.bisect_left(LATENCY_BOUNDS_MS, ms)] = ok + client + server
    return StatsRow(
        endpoint=endpoint,
        deployment=deployment,
        requests=ok + client + server + shed,
        client_errors=client,
        server_errors=server,
        shed=shed,
        latency_sum_ms=ms * (ok + client + server),
        latency_buckets=buckets,
    )


def flush(router: str, seq: int, *rows: StatsRow, ago: float = 30.0) -> RecordServingStats:
    end = NOW - timedelta(seconds=ago)
    return RecordServingStats(
        **WHERE,
        router=router,
        seq=seq,
        started_at=end - timedelta(seconds=5),
        ended_at=end,
        rows=list(rows),
    )


@pytest.fixture
def churn(client: Client) -> Client:
    client.create_workspace("ml")
    client.create_endpoint("churn", **WHERE)
    return client


def test_flushes_of_two_routers_add_up_and_a_repeat_adds_nothing(churn: Client) -> None:
    client = churn
    first = flush("router-a", 1, row("blue", ok=40, client=3, server=2), row("green", ok=5))
    done = client.record_serving_stats(first)
    assert (done.rows, done.duplicate, done.unknown_endpoints) == (2, False, [])
    client.record_serving_stats(
        flush("router-b", 1, row("blue", ok=30, shed=4, ms=300), row(None, client=6), ago=20)
    )
    client.record_serving_stats(flush("router-a", 2, row("blue", ok=10, server=1), ago=10))
    # The same flush again (its answer was lost): stored once.
    again = client.record_serving_stats(first)
    assert (again.rows, again.duplicate) == (0, True)

    stats = client.serving_stats("churn", since=timedelta(minutes=5), **WHERE)
    assert stats.total.requests == 45 + 5 + 34 + 6 + 11
    by_name = {d.deployment: d for d in stats.deployments}
    # Current deployments first (none here), then those with data, then the unrouted.
    assert [d.deployment for d in stats.deployments] == ["blue", "green", None]
    blue = by_name["blue"]
    assert blue.has_data and blue.routers == 2
    assert blue.requests == 45 + 34 + 11
    assert (blue.errors.client, blue.errors.server, blue.errors.shed) == (3, 3, 4)
    assert blue.error_rate == pytest.approx(10 / 90)
    assert blue.server_error_rate == pytest.approx(7 / 90)
    assert sum(b.count for b in blue.latency_buckets) == 90 - 4  # shed ones are not timed
    assert blue.latency_buckets[-1].le_ms is None
    assert 5 < blue.p50_ms < 10 + 1e-9 and 250 < blue.p99_ms <= 300
    assert blue.mean_ms == pytest.approx((56 * 10 + 30 * 300) / 86)
    assert blue.first_at == NOW - timedelta(seconds=35)
    assert blue.last_at == NOW - timedelta(seconds=10)
    assert by_name[None].errors.client == 6 and by_name[None].routers == 1

    one = client.serving_stats("churn", deployment="green", since=timedelta(minutes=5), **WHERE)
    assert [(d.deployment, d.requests, d.error_rate) for d in one.deployments] == [
        ("green", 5, 0.0)
    ]
    assert one.total.requests == 5


def test_no_data_is_not_zero_errors(churn: Client) -> None:
    client = churn
    client.record_serving_stats(flush("r", 1, row("blue", ok=10), ago=600))
    recent = client.serving_stats("churn", deployment="blue", since=timedelta(minutes=5), **WHERE)
    [blue] = recent.deployments
    assert not blue.has_data and blue.requests == 0 and blue.routers == 0
    assert blue.error_rate is None and blue.p99_ms is None and blue.last_at is None
    assert not recent.total.has_data and recent.total.error_rate is None
    older = client.serving_stats("churn", deployment="blue", since=timedelta(hours=1), **WHERE)
    assert older.deployments[0].has_data and older.deployments[0].error_rate == 0.0


def test_windows_count_a_flush_by_when_it_ended(churn: Client) -> None:
    client = churn
    client.record_serving_stats(flush("r", 1, row("blue", ok=1), ago=100))
    client.record_serving_stats(flush("r", 2, row("blue", ok=2), ago=50))
    end_first = NOW - timedelta(seconds=100)

    def requests(since: datetime, until: datetime) -> int:
        return client.serving_stats("churn", since=since, until=until, **WHERE).total.requests

    assert requests(end_first - timedelta(seconds=1), end_first) == 1  # (since, until]
    assert requests(end_first, NOW) == 2
    assert requests(end_first - timedelta(seconds=1), NOW) == 3
    with pytest.raises(InvalidInput, match=r"since: .* is after until"):
        client.serving_stats("churn", since=NOW, until=end_first, **WHERE)


def test_a_series_per_step_and_deployment(churn: Client) -> None:
    client = churn
    base = NOW.replace(minute=0, second=0) - timedelta(hours=1)  # on a 5-minute step
    for seq, (minute, deployment, ok, server) in enumerate(
        [(1, "blue", 5, 0), (1, "green", 3, 1), (2, "blue", 7, 2), (4, "blue", 1, 0)], start=1
    ):
        end = base + timedelta(minutes=minute, seconds=30)
        f = flush("r", seq, row(deployment, ok=ok, server=server))
        client.record_serving_stats(
            f.model_copy(update={"ended_at": end, "started_at": end - timedelta(seconds=5)})
        )
    series = client.serving_stats_series(
        "churn", step=timedelta(minutes=1), since=base, until=base + timedelta(minutes=10), **WHERE
    )
    points = [(p.at - base, p.deployment, p.requests, p.errors.server) for p in series.points]
    assert points == [
        (timedelta(minutes=1), "blue", 5, 0),
        (timedelta(minutes=1), "green", 4, 1),
        (timedelta(minutes=2), "blue", 9, 2),
        (timedelta(minutes=4), "blue", 1, 0),
    ]
    assert series.points[2].server_error_rate == pytest.approx(2 / 9)
    blue = client.serving_stats_series(
        "churn",
        step=300,
        deployment="blue",
        since=base,
        until=base + timedelta(minutes=10),
        **WHERE,
    )
    assert [(p.at - base, p.requests) for p in blue.points] == [(timedelta(0), 15)]
    with pytest.raises(InvalidInput, match="step_seconds: 1 s makes"):
        client.serving_stats_series("churn", step=1, since=timedelta(days=7), **WHERE)


def test_rows_past_the_retention_are_deleted_by_later_writes(
    churn: Client, connector: Connector
) -> None:
    client = churn
    client.record_serving_stats(flush("r", 1, row("blue", ok=3), ago=8 * 86_400))
    client.record_serving_stats(flush("r", 2, row("blue", ok=4), ago=86_400))
    with connector.platform.engine.connect() as conn:
        kept = conn.execute(select(schema.serving_stats.c.seq)).scalars().all()
    assert kept == [2]  # the default retention is 7 days
    stats = client.serving_stats("churn", since=timedelta(days=30), **WHERE)
    assert stats.total.requests == 4


def test_flushes_are_checked(churn: Client, connector: Connector) -> None:
    client = churn
    payload = flush("r", 1).model_dump()
    payload["rows"] = [{**row("blue", ok=2).model_dump(), "client_errors": 5}]
    with pytest.raises(InvalidInput, match="more than the 2 requests"):
        client.call(ops.RECORD_SERVING_STATS, **payload)
    with pytest.raises(ValidationError, match="latency_buckets: hold 1 requests"):
        StatsRow.model_validate({**row("blue", ok=1).model_dump(), "requests": 2})
    with pytest.raises(InvalidInput, match="ended_at: before started_at"):
        client.record_serving_stats(
            flush("r", 1).model_copy(update={"ended_at": NOW - timedelta(hours=1)})
        )
    # Rows of an endpoint deleted meanwhile are dropped; the others are stored.
    gone = client.record_serving_stats(
        flush("r", 1, row("blue", ok=1), row("blue", ok=1, endpoint="old"))
    )
    assert gone.unknown_endpoints == ["old"] and gone.rows == 1
    client.delete_endpoint("churn", **WHERE)
    with connector.platform.engine.connect() as conn:
        left = conn.scalar(select(func.count()).select_from(schema.serving_stats))
    assert left == 0  # an endpoint's statistics go with it
    with pytest.raises(NotFound, match="endpoint 'churn' not found"):
        client.serving_stats("churn", **WHERE)


def test_who_may_record_and_read(churn: Client, connector: Connector) -> None:
    client = churn
    client.create_principal("router", kind="service")
    client.grant("router", "ml-engineer", "ml", "dev")
    client.create_principal("eve")
    client.grant("eve", "ml-engineer", "ml", "dev")
    client.create_principal("idle", kind="service")
    client.grant("idle", "viewer", "ml", "dev")
    client.create_principal("olga")
    client.grant("olga", "viewer", "ml", "prod")
    client.create_principal("nobody")

    router = connector.as_principal("router")
    assert router.record_serving_stats(flush("r", 1, row("blue", ok=2))).rows == 1
    # A user who may deploy may still not write statistics: they are the routers' to write.
    with pytest.raises(PermissionDenied, match="may not record serving statistics"):
        connector.as_principal("eve").record_serving_stats(flush("r", 2, row("blue", ok=9)))
    # A service account without endpoint.deploy there neither.
    with pytest.raises(PermissionDenied, match=r"may not endpoint\.deploy"):
        connector.as_principal("idle").record_serving_stats(flush("r", 3, row("blue", ok=9)))
    # Reading: whoever sees the endpoint.
    assert connector.as_principal("eve").serving_stats("churn", **WHERE).total.requests == 2
    assert connector.as_principal("idle").serving_stats("churn", **WHERE).total.requests == 2
    with pytest.raises(PermissionDenied, match=r"may not data\.read"):
        connector.as_principal("olga").serving_stats("churn", **WHERE)
    with pytest.raises(NotFound, match="workspace 'ml' not found"):
        connector.as_principal("nobody").serving_stats_series("churn", **WHERE)
    with pytest.raises(NotFound, match="workspace 'ml' not found"):
        connector.as_principal("nobody").record_serving_stats(flush("r", 4))
    assert client.serving_stats("churn", **WHERE).total.requests == 2


def test_quantiles_interpolate_within_a_bucket() -> None:
    buckets = [0] * BUCKETS
    assert quantile(buckets, 0.5) is None
    buckets[LATENCY_BOUNDS_MS.index(100)] = 10  # ten requests in (75, 100]
    assert quantile(buckets, 0.5) == pytest.approx(87.5)
    assert quantile(buckets, 1.0) == pytest.approx(100)
    buckets[-1] = 90  # ninety slower than the last bound: the last bound is the estimate
    assert quantile(buckets, 0.99) == LATENCY_BOUNDS_MS[-1]
