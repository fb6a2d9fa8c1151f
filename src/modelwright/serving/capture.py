"""Data capture: sampled requests and responses, written as Parquet off the request path.

``record`` only samples and enqueues (never blocks, never raises); a daemon thread writes a
file per flush under ``<url>/capture/<endpoint>/<deployment>/date=YYYY-MM-DD/<uuid>.parquet``.
When the queue is full or a write fails the records are dropped and counted, so capture can
never slow down or fail a request.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["Capture", "CaptureRecord"]

log = logging.getLogger(__name__)

CaptureRecord = dict[str, Any]
_STOP = object()


class Capture:
    def __init__(
        self,
        url: str,
        *,
        endpoint: str,
        deployment: str,
        model: str,
        rate: float,
        flush_rows: int = 1000,
        flush_seconds: float = 1.0,
        max_pending: int = 10_000,
        on_drop: Callable[[int], None] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.endpoint = endpoint
        self.deployment = deployment
        self.model = model
        self.rate = rate
        self.flush_rows = flush_rows
        self.flush_seconds = flush_seconds
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self.on_drop = on_drop or (lambda n: None)
        self._thread = threading.Thread(target=self._run, name="mw-capture", daemon=True)
        self._thread.start()
        self.files_written = 0

    def sampled(self) -> bool:
        return self.rate > 0 and (self.rate >= 1 or random.random() < self.rate)  # noqa: S311

    def record(
        self,
        request_id: str,
        request: bytes,
        response: bytes,
        status: int,
        latency_ms: float,
        *,
        shadow: bool = False,
    ) -> None:
        """Enqueue one request/response pair (the caller decided it is sampled)."""
        item: CaptureRecord = {
            "request_id": request_id,
            "at": datetime.now(UTC),
            "endpoint": self.endpoint,
            "deployment": self.deployment,
            "model": self.model,
            "status": status,
            "latency_ms": latency_ms,
            "shadow": shadow,
            "request": request.decode("utf-8", "replace"),
            "response": response.decode("utf-8", "replace"),
        }
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.on_drop(1)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending, then stop the writer."""
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout)

    def _run(self) -> None:
        batch: list[CaptureRecord] = []
        deadline = time.monotonic() + self.flush_seconds
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                item = None
            if item is not None and item is not _STOP:
                batch.append(item)
            if batch and (
                item is _STOP or len(batch) >= self.flush_rows or time.monotonic() >= deadline
            ):
                self._write(batch)
                batch = []
            if item is _STOP:
                return
            if time.monotonic() >= deadline:
                deadline = time.monotonic() + self.flush_seconds

    def _write(self, batch: list[CaptureRecord]) -> None:
        try:
            import fsspec
            import pyarrow as pa
            import pyarrow.parquet as pq

            day = batch[0]["at"].strftime("%Y-%m-%d")
            path = (
                f"{self.url}/capture/{self.endpoint}/{self.deployment}/date={day}/"
                f"{uuid.uuid4().hex}.parquet"
            )
            fs, fs_path = fsspec.core.url_to_fs(path)
            fs.makedirs(fs_path.rsplit("/", 1)[0], exist_ok=True)
            with fs.open(fs_path, "wb") as fh:
                pq.write_table(pa.Table.from_pylist(batch), fh)
            self.files_written += 1
        except Exception:
            log.exception("capture: could not write %d records", len(batch))
            self.on_drop(len(batch))
