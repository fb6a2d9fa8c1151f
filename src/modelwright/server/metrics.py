"""Prometheus metrics of the REST server, in a registry of its own (tests start many apps)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

__all__ = ["exposition", "observe"]

REGISTRY = CollectorRegistry()
_REQUESTS = Counter(
    "modelwright_api_requests",
    "REST API requests by operation and HTTP status.",
    ["operation", "status"],
    registry=REGISTRY,
)
_LATENCY = Histogram(
    "modelwright_api_request_seconds",
    "REST API request latency by operation.",
    ["operation"],
    registry=REGISTRY,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)


def observe(operation: str, status: int, seconds: float) -> None:
    _REQUESTS.labels(operation, str(status)).inc()
    _LATENCY.labels(operation).observe(seconds)


def exposition() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
