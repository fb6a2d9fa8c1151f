"""Prometheus metrics of one model server, in a registry of its own (tests start many)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

__all__ = ["ServerMetrics"]

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


class ServerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "modelwright_serving_requests",
            "Requests by route and HTTP status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.errors = Counter(
            "modelwright_serving_errors",
            "Failed requests by class: client (4xx), server (5xx), shed (503 queue full).",
            ["error_class"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "modelwright_serving_request_seconds",
            "Request latency by route.",
            ["route"],
            registry=self.registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.batch_size = Histogram(
            "modelwright_serving_batch_size",
            "Requests merged into one predict call.",
            registry=self.registry,
            buckets=_BATCH_BUCKETS,
        )
        self.queue_depth = Gauge(
            "modelwright_serving_queue_depth",
            "Requests admitted and not yet answered.",
            registry=self.registry,
        )
        self.capture_dropped = Counter(
            "modelwright_serving_capture_dropped",
            "Captured records dropped because the capture queue was full or writing failed.",
            registry=self.registry,
        )

    def observe(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)
        if status == 503:
            self.errors.labels("shed").inc()
        elif status >= 500:
            self.errors.labels("server").inc()
        elif status >= 400:
            self.errors.labels("client").inc()

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
