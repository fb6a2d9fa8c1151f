"""The router's serving statistics: counted per request in memory, flushed to the platform.

Requests are counted per (endpoint, deployment): answers by class (client 4xx, server 5xx,
shed 503 for a full queue) and a latency histogram of the platform's buckets. Every
``interval`` seconds a background task cuts what was counted into a flush numbered
``seq`` and sends it; the platform stores it once per (router instance, seq).

A flush that fails is kept as it was and sent again, unchanged, before anything newer: its
first sending may have been stored (only the answer lost), so its number must keep naming
the same counts. What is counted meanwhile waits in the next one. Memory stays bounded with
no count dropped: one flush waiting, one being counted, each a row per (endpoint,
deployment). Counting is a few additions under a lock, never I/O: a request never waits
for the platform.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter

from modelwright.endpoints.stats_models import (
    BUCKETS,
    LATENCY_BOUNDS_MS,
    RecordServingStats,
    StatsRow,
)

__all__ = ["DEFAULT_STATS_INTERVAL", "StatsRecorder", "error_class", "router_id"]

DEFAULT_STATS_INTERVAL = 5.0
# Distinct (endpoint, deployment) pairs counted between two flushes; a routing table has far
# fewer. Past it a request is not counted, and the metric says how many were not.
MAX_KEYS = 10_000

log = logging.getLogger("modelwright.serving")

Send = Callable[[RecordServingStats], Awaitable[object]]


def error_class(status: int, *, shed: bool = False) -> str | None:
    """``shed`` (a full queue), ``server`` (5xx), ``client`` (4xx) or None (an answer)."""
    if shed:
        return "shed"
    if status >= 500:
        return "server"
    if status >= 400:
        return "client"
    return None


def router_id() -> str:
    """A name for this router instance: host, process and a random part (a restarted router
    numbers its flushes from 1 again under a new name)."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:32].strip("-") or "router"
    return f"{host}-{os.getpid()}-{uuid.uuid4().hex[:12]}"


@dataclass
class _Counts:
    requests: int = 0
    client: int = 0
    server: int = 0
    shed: int = 0
    latency_sum_ms: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * BUCKETS)


class StatsRecorder:
    """Counts a router's requests and flushes them to the platform through ``send``."""

    def __init__(
        self,
        send: Send,
        *,
        workspace: str,
        environment: str,
        interval: float = DEFAULT_STATS_INTERVAL,
        registry: CollectorRegistry | None = None,
        router: str | None = None,
    ) -> None:
        if not interval > 0:
            raise ValueError(f"interval: must be more than 0 seconds, got {interval}")
        self._send = send
        self.workspace, self.environment = workspace, environment
        self.interval = interval
        self.router = router or router_id()
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], _Counts] = {}
        self._started = _now()
        self._seq = 0
        self.pending: RecordServingStats | None = None
        self._failing = False
        self.flushes = Counter(
            "modelwright_router_stats_flushes",
            "Flushes of serving statistics to the platform, by outcome (sent, failed: kept "
            "and sent again).",
            ["outcome"],
            registry=registry,
        )
        self.uncounted = Counter(
            "modelwright_router_stats_uncounted",
            "Requests left out of serving statistics (too many distinct deployments).",
            registry=registry,
        )

    def observe(
        self, endpoint: str, deployment: str, status: int, seconds: float, *, shed: bool = False
    ) -> None:
        """Count one answered request (``deployment`` "" when none was chosen)."""
        kind = error_class(status, shed=shed)
        ms = seconds * 1000.0
        with self._lock:
            counts = self._counts.get((endpoint, deployment))
            if counts is None:
                if len(self._counts) >= MAX_KEYS:
                    self.uncounted.inc()
                    return
                counts = self._counts[(endpoint, deployment)] = _Counts()
            counts.requests += 1
            if kind == "shed":
                counts.shed += 1
                return  # shed requests are not timed: they would hide the slow ones
            if kind == "server":
                counts.server += 1
            elif kind == "client":
                counts.client += 1
            counts.latency_sum_ms += ms
            counts.buckets[bisect.bisect_left(LATENCY_BOUNDS_MS, ms)] += 1

    def _cut(self) -> RecordServingStats | None:
        """What was counted since the last cut, as the next flush (None when nothing)."""
        now = _now()
        with self._lock:
            counts, self._counts = self._counts, {}
            started, self._started = self._started, now
        if not counts:
            return None
        self._seq += 1
        return RecordServingStats(
            workspace=self.workspace,
            environment=self.environment,
            router=self.router,
            seq=self._seq,
            started_at=started,
            ended_at=max(now, started),
            rows=[
                StatsRow(
                    endpoint=endpoint,
                    deployment=deployment or None,
                    requests=c.requests,
                    client_errors=c.client,
                    server_errors=c.server,
                    shed=c.shed,
                    latency_sum_ms=c.latency_sum_ms,
                    latency_buckets=c.buckets,
                )
                for (endpoint, deployment), c in sorted(counts.items())
            ],
        )

    async def flush(self) -> bool:
        """Send the waiting flush, then what was counted since; False when a send failed
        (what it held is kept for the next call)."""
        for _ in range(2):
            if self.pending is None:
                self.pending = self._cut()
                if self.pending is None:
                    return True
            try:
                await self._send(self.pending)
            except Exception as exc:
                self.flushes.labels("failed").inc()
                if not self._failing:  # once per outage, not every few seconds
                    log.warning(
                        "router: could not record serving statistics (kept, sent again "
                        "later): %s: %s",
                        type(exc).__name__,
                        exc,
                    )
                self._failing = True
                return False
            self.flushes.labels("sent").inc()
            if self._failing:
                log.warning("router: serving statistics recorded again")
            self._failing = False
            self.pending = None
        return True

    async def run(self) -> None:
        """Flush every ``interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()

    async def close(self, timeout: float = 10.0) -> None:
        """Send what is left, trying for ``timeout`` seconds at most (on shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                done = await asyncio.wait_for(self.flush(), max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if done and self.pending is None and not self._counts:
                return
            await asyncio.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        with self._lock:
            lost = sum(c.requests for c in self._counts.values())
        lost += sum(r.requests for r in self.pending.rows) if self.pending else 0
        log.warning("router: %d request(s) not recorded in serving statistics at shutdown", lost)


def _now() -> datetime:
    return datetime.now(UTC)
