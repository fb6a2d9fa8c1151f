"""Requests and responses of serving statistics: what routers record, what readers get."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, Field, model_validator

from modelwright.core.ints import INT64_MAX
from modelwright.core.models import Request
from modelwright.core.names import Name
from modelwright.store.latency import SERVING_LATENCY_BOUNDS_MS

__all__ = [
    "LATENCY_BOUNDS_MS",
    "DeploymentStats",
    "ErrorCounts",
    "LatencyBucket",
    "RecordServingStats",
    "SeriesPoint",
    "ServingStats",
    "ServingStatsQuery",
    "ServingStatsSeries",
    "ServingStatsSeriesQuery",
    "StatsRecorded",
    "StatsRow",
    "StatsSummary",
]

LATENCY_BOUNDS_MS = SERVING_LATENCY_BOUNDS_MS
BUCKETS = len(LATENCY_BOUNDS_MS) + 1
# A router counts far fewer requests than this in one interval; the bound keeps sums over a
# retention's worth of rows within a 64-bit integer on SQLite (which refuses to overflow).
MAX_COUNT = 2**40
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
Seq = Annotated[int, Field(ge=1, le=INT64_MAX)]


class StatsRow(Request):
    """What one router counted for one deployment during one interval.

    ``latency_buckets`` holds one count per bucket of ``LATENCY_BOUNDS_MS`` (at most that many
    milliseconds) plus one for slower requests. Shed requests are counted, never timed: the
    histogram holds ``requests - shed`` requests."""

    endpoint: Name
    deployment: Name | None = Field(
        default=None, description="None: refused before a deployment was chosen."
    )
    requests: Count
    client_errors: Count = Field(default=0, description="4xx answers.")
    server_errors: Count = Field(default=0, description="5xx answers other than shedding.")
    shed: Count = Field(default=0, description="503s for a full queue (router or workers).")
    latency_sum_ms: float = Field(default=0.0, ge=0, le=1e15)
    latency_buckets: list[Count] = Field(min_length=BUCKETS, max_length=BUCKETS)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        errors = self.client_errors + self.server_errors + self.shed
        if errors > self.requests:
            raise ValueError(
                f"client_errors + server_errors + shed: {errors}, more than the "
                f"{self.requests} requests"
            )
        timed = sum(self.latency_buckets)
        if timed != self.requests - self.shed:
            raise ValueError(
                f"latency_buckets: hold {timed} requests, expected requests - shed = "
                f"{self.requests - self.shed}"
            )
        return self


class RecordServingStats(Request):
    """One flush of a router: its counts since the previous one, for every endpoint of the
    environment it serves. ``(router, seq)`` names the flush: sent again, it adds nothing."""

    workspace: Name
    environment: Name
    router: Name = Field(description="The router instance (new at every start).")
    seq: Seq = Field(description="The flush's number, from 1, per router instance.")
    started_at: datetime
    ended_at: datetime
    rows: list[StatsRow] = Field(default_factory=list, max_length=10_000)

    @model_validator(mode="after")
    def _interval(self) -> Self:
        if self.ended_at < self.started_at:
            raise ValueError("ended_at: before started_at")
        return self


class StatsRecorded(BaseModel):
    rows: int = Field(description="Rows stored by this call (0 when it repeats a flush).")
    duplicate: bool = Field(description="This flush was recorded already (a retry).")
    unknown_endpoints: list[str] = Field(
        description="Endpoints no longer in the environment; their rows are dropped."
    )


class ServingStatsQuery(Request):
    workspace: Name
    environment: Name
    endpoint: Name
    deployment: Name | None = Field(default=None, description="One deployment only.")
    since: datetime | None = Field(default=None, description="Default: an hour before until.")
    until: datetime | None = Field(default=None, description="Default: now.")


class ServingStatsSeriesQuery(ServingStatsQuery):
    step_seconds: int = Field(default=60, ge=1, le=7 * 86_400, description="Width of a point.")


class ErrorCounts(BaseModel):
    client: int = Field(description="4xx answers.")
    server: int = Field(description="5xx answers other than shedding.")
    shed: int = Field(description="503s for a full queue.")


class LatencyBucket(BaseModel):
    le_ms: float | None = Field(description="Upper bound; None: slower than every bound.")
    count: int


class StatsSummary(BaseModel):
    """Totals over the intervals that ended in the window. ``has_data`` is false when no
    request was recorded: then the rates and percentiles are None, never 0."""

    has_data: bool
    requests: int
    errors: ErrorCounts
    error_rate: float | None = Field(description="(client + server + shed) / requests.")
    server_error_rate: float | None = Field(description="(server + shed) / requests.")
    mean_ms: float | None
    p50_ms: float | None
    p90_ms: float | None
    p99_ms: float | None
    first_at: datetime | None = Field(description="Start of the earliest interval counted.")
    last_at: datetime | None = Field(description="End of the latest interval counted.")


class DeploymentStats(StatsSummary):
    deployment: str | None = Field(description="None: refused before a deployment was chosen.")
    routers: int = Field(description="Router instances that reported requests.")
    latency_buckets: list[LatencyBucket]


class ServingStats(BaseModel):
    workspace: str
    environment: str
    endpoint: str
    since: datetime
    until: datetime
    total: StatsSummary
    deployments: list[DeploymentStats]


class SeriesPoint(StatsSummary):
    deployment: str | None
    at: datetime = Field(description="Start of the point's step (points cover (at, at+step]).")


class ServingStatsSeries(BaseModel):
    workspace: str
    environment: str
    endpoint: str
    since: datetime
    until: datetime
    step_seconds: int
    points: list[SeriesPoint] = Field(description="Steps with data only, by time, deployment.")
