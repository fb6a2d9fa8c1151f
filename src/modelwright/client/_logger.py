"""Client-side buffering of metrics, params and tags, flushed in batches in the background.

``log_metric`` only appends to a list; a daemon thread sends what has gathered every
``interval`` seconds (or sooner when ``max_points`` are waiting), and ``flush()``, the end of
the run and interpreter exit send the rest. What a crash can lose is what was logged in the
last interval before it (one second by default). A failed background send is re-queued and
retried; an error the server gives for the data itself (an immutable param changed, the run
ended elsewhere) is raised by the next logging call or ``flush()``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from modelwright.errors import ModelwrightError, ServiceUnavailable
from modelwright.tracking.models import LogBatch, MetricBatch

__all__ = ["BatchLogger"]

Send = Callable[[LogBatch], object]

_MAX_POINTS_PER_REQUEST = 50_000
_LIVE: weakref.WeakSet[BatchLogger] = weakref.WeakSet()


def _interval() -> float:
    try:
        return float(os.environ.get("MODELWRIGHT_FLUSH_INTERVAL", "1.0"))
    except ValueError:
        return 1.0


class BatchLogger:
    def __init__(
        self, run_id: str, send: Send, *, interval: float | None = None, max_points: int = 20_000
    ) -> None:
        self.run_id = run_id
        self._send = send
        self.interval = _interval() if interval is None else interval
        self.max_points = max_points
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._error: ModelwrightError | None = None
        self._reset()
        self._thread = threading.Thread(
            target=self._loop, name=f"modelwright-log-{run_id[:8]}", daemon=True
        )
        self._thread.start()
        _LIVE.add(self)

    def _reset(self) -> None:
        self._keys: list[str] = []
        self._values: list[float] = []
        self._steps: list[int] = []
        self._timestamps: list[int] = []
        self._params: dict[str, str] = {}
        self._tags: dict[str, str] = {}

    # -- producers ------------------------------------------------------------------------
    def metric(self, key: str, value: float, step: int, timestamp: int | None) -> None:
        self._raise_pending()
        with self._lock:
            self._keys.append(key)
            self._values.append(value)
            self._steps.append(step)
            self._timestamps.append(timestamp if timestamp is not None else int(time.time() * 1000))
            full = len(self._keys) >= self.max_points
        if full and not self._wake.is_set():  # once per burst, not on every call after it
            self._wake.set()

    def params(self, params: dict[str, str]) -> None:
        self._raise_pending()
        with self._lock:
            self._params.update(params)

    def tags(self, tags: dict[str, str]) -> None:
        self._raise_pending()
        with self._lock:
            self._tags.update(tags)

    # -- sending --------------------------------------------------------------------------
    def flush(self) -> None:
        """Send everything logged so far; raise any error the server gave."""
        self._send_pending(raise_errors=True)
        self._raise_pending()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=30)
        self.flush()
        _LIVE.discard(self)

    def _loop(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._closed:  # close() sends the rest itself, in the caller's thread
                return
            self._send_pending(raise_errors=False)

    def _take(
        self,
    ) -> tuple[list[str], list[float], list[int], list[int], dict[str, str], dict[str, str]]:
        with self._lock:
            taken = (
                self._keys,
                self._values,
                self._steps,
                self._timestamps,
                self._params,
                self._tags,
            )
            self._reset()
        return taken

    def _requeue(self, taken: tuple[Any, ...]) -> None:
        keys, values, steps, stamps, params, tags = taken
        with self._lock:
            self._keys[:0], self._values[:0] = keys, values
            self._steps[:0], self._timestamps[:0] = steps, stamps
            self._params = {**params, **self._params}
            self._tags = {**tags, **self._tags}

    def _send_pending(self, *, raise_errors: bool) -> None:
        with self._send_lock:  # one batch in flight at a time keeps points in order
            taken = self._take()
            keys, values, steps, stamps, params, tags = taken
            if not (keys or params or tags):
                return
            try:
                while True:
                    n = min(len(keys), _MAX_POINTS_PER_REQUEST)
                    metrics = (
                        MetricBatch.model_construct(
                            keys=keys[:n], values=values[:n], steps=steps[:n], timestamps=stamps[:n]
                        )
                        if n
                        else None
                    )
                    self._send(
                        LogBatch.model_construct(
                            run_id=self.run_id, metrics=metrics, params=params, tags=tags
                        )
                    )
                    # What was sent is not sent again if a later chunk fails.
                    keys, values, steps, stamps = keys[n:], values[n:], steps[n:], stamps[n:]
                    params, tags = {}, {}
                    if not keys:
                        break
            except ServiceUnavailable:
                self._requeue((keys, values, steps, stamps, params, tags))
                if raise_errors:
                    raise
            except ModelwrightError as exc:
                if raise_errors:
                    raise
                self._error = exc

    def _raise_pending(self) -> None:
        if self._error is not None:
            err, self._error = self._error, None
            raise err


@atexit.register
def _flush_all() -> None:
    for logger in list(_LIVE):
        # Nothing sensible to do with an error at exit; the data stays unsent.
        with contextlib.suppress(Exception):
            logger.close()
