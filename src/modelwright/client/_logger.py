"""Client-side buffering of metrics, params and tags, flushed in batches in the background.

``log_metric`` only appends to a list; a daemon thread sends what has gathered every
``interval`` seconds (or sooner when ``max_points`` are waiting), and ``flush()``, the end of
the run and interpreter exit send the rest. What a crash of the process can lose is what was
logged in the last interval before it (one second by default). When nothing was sent for
``MODELWRIGHT_HEARTBEAT_INTERVAL`` seconds (60), the thread sends an empty batch: a heartbeat,
without which the platform shows the run as lost. Nothing is dropped silently:

- A batch taken from the buffer stays unsent, in order, until the platform has it. An error
  worth retrying (the server or its database unavailable, a dropped connection, a lock held
  past the busy timeout) sends the same batch again later, backing off; the batch keeps its
  idempotency key, so the platform stores it once however often it arrives.
- Any other error (the server refused the data: an immutable param changed, the run ended
  elsewhere; or an unexpected one) drops that batch; the error, naming what was not stored,
  is raised by the next logging call, ``flush()`` or the end of the run. The sending thread
  lives on.
- ``flush()`` and the end of the run retry for ``MODELWRIGHT_FLUSH_TIMEOUT`` seconds, then
  raise ``ServiceUnavailable`` naming what is unsent: a run is not ended as finished with
  points missing.
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable

from modelwright.client._retry import backoff, is_transient
from modelwright.errors import InvalidInput, ModelwrightError, ServiceUnavailable
from modelwright.settings import ClientSettings, client_settings
from modelwright.tracking.models import LogBatch, MetricBatch
from modelwright.tracking.params import check_unchanged

__all__ = ["BatchLogger"]

Send = Callable[[LogBatch], object]

_MAX_POINTS_PER_REQUEST = 50_000
_LIVE: weakref.WeakSet[BatchLogger] = weakref.WeakSet()


Counts = tuple[int, int, int]  # metric points, params, tags


def _describe(counts: Counts) -> str:
    """``2000 metric points and 1 param``, followed by the right verb."""
    parts = [
        f"{n} {what}{'' if n == 1 else 's'}"
        for n, what in zip(counts, ("metric point", "param", "tag"), strict=True)
        if n
    ]
    text = " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)
    return text or "nothing"


def _add(a: Counts, b: Counts) -> Counts:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2])


def _counts(batch: LogBatch) -> Counts:
    return (len(batch.metrics.keys) if batch.metrics else 0, len(batch.params), len(batch.tags))


class BatchLogger:
    def __init__(
        self,
        run_id: str,
        send: Send,
        *,
        interval: float | None = None,
        max_points: int = 20_000,
        flush_timeout: float | None = None,
    ) -> None:
        self.run_id = run_id
        self._send = send
        settings = client_settings()
        self.interval = settings.flush_interval if interval is None else interval
        self.flush_timeout = settings.flush_timeout if flush_timeout is None else flush_timeout
        self.heartbeat_interval = settings.heartbeat_interval
        self.max_points = max_points
        self._last_contact = time.monotonic()  # the run was just started
        self._lock = threading.Lock()  # the buffer
        self._send_lock = threading.Lock()  # one batch in flight at a time keeps points in order
        self._wake = threading.Event()
        self._closed = False
        self._unsent: list[LogBatch] = []  # taken from the buffer, not stored yet; oldest first
        self._failures = 0  # transient failures in a row, in the background
        self._retry_at = 0.0  # the background sends nothing before this (time.monotonic)
        self._error: ModelwrightError | None = None  # raised by the caller's next call
        self._dropped: Counts = (0, 0, 0)  # what the pending error lost
        self._logged_params: dict[str, str] = {}  # every param logged here, sent or not
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
            # Within one flush interval as across flushes: a changed param is refused now
            # (the platform checks against what is stored; this, what is not sent yet).
            check_unchanged(self.run_id, self._logged_params, params)
            self._logged_params.update(params)
            self._params.update(params)

    def tags(self, tags: dict[str, str]) -> None:
        self._raise_pending()
        with self._lock:
            self._tags.update(tags)

    # -- sending --------------------------------------------------------------------------
    def flush(self, timeout: float | None = None) -> None:
        """Send everything logged so far, retrying for ``timeout`` seconds (default:
        ``flush_timeout``); raise any error the server gave, or ``ServiceUnavailable``
        naming what is still unsent."""
        timeout = self.flush_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        failures = 0
        while True:
            try:
                self._send_pending()
                break
            except Exception as exc:
                if not is_transient(exc):
                    raise
                failures += 1
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._unsent_error(exc, timeout) from None
                time.sleep(min(backoff(failures), remaining))
        self._raise_pending()

    def close(self, timeout: float | None = None) -> None:
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=30)
        _LIVE.discard(self)  # whatever happens next, exit does not try again
        self.flush(timeout)

    def _loop(self) -> None:
        while True:
            every = min(self.interval, self.heartbeat_interval)
            self._wake.wait(max(every, self._retry_at - time.monotonic()))
            self._wake.clear()
            if self._closed:  # close() sends the rest itself, in the caller's thread
                return
            if time.monotonic() < self._retry_at:
                continue  # woken by a full buffer while backing off
            try:
                self._send_pending(heartbeat=True)
            except Exception as exc:
                if is_transient(exc):
                    self._failures += 1
                    self._retry_at = time.monotonic() + backoff(self._failures)
                else:  # not from a send (those are kept by _send_pending): still reported
                    self._keep(exc, (0, 0, 0))
            else:
                self._failures, self._retry_at = 0, 0.0

    def _take(self) -> list[LogBatch]:
        """The buffer as batches of at most ``_MAX_POINTS_PER_REQUEST`` points."""
        with self._lock:
            keys, values, steps, stamps = self._keys, self._values, self._steps, self._timestamps
            params, tags = self._params, self._tags
            self._reset()
        batches = []
        for first in range(0, max(len(keys), 1), _MAX_POINTS_PER_REQUEST):
            end = first + _MAX_POINTS_PER_REQUEST
            metrics = (
                MetricBatch.model_construct(
                    keys=keys[first:end],
                    values=values[first:end],
                    steps=steps[first:end],
                    timestamps=stamps[first:end],
                )
                if keys
                else None
            )
            if metrics is None and not (params or tags):
                break
            # The key stays with the batch through every retry: the platform stores it once.
            batches.append(
                LogBatch.model_construct(
                    run_id=self.run_id,
                    metrics=metrics,
                    params=params,
                    tags=tags,
                    idempotency_key=uuid.uuid4().hex,
                )
            )
            params, tags = {}, {}  # with the first batch only
        return batches

    def _send_pending(self, *, heartbeat: bool = False) -> None:
        """Send the unsent batches, oldest first (with ``heartbeat``, an empty one when
        nothing was sent for long). A transient error leaves them unsent and propagates; any
        other error drops the batch it came from and is kept for later."""
        with self._send_lock:
            self._unsent += self._take()
            if not heartbeat:  # a heartbeat not sent yet is no data: flushing drops it
                self._unsent = [b for b in self._unsent if any(_counts(b))]
            idle = time.monotonic() - self._last_contact
            if heartbeat and not self._unsent and idle >= self.heartbeat_interval:
                # No key: an empty batch applied twice changes nothing.
                self._unsent.append(
                    LogBatch.model_construct(run_id=self.run_id, metrics=None, params={}, tags={})
                )
            while self._unsent:
                batch = self._unsent[0]
                try:
                    self._send(batch)
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    self._keep(exc, _counts(batch))
                else:
                    self._last_contact = time.monotonic()
                del self._unsent[0]

    def _keep(self, exc: Exception, lost: Counts) -> None:
        """Keep the first error for the caller's thread, adding up what errors dropped."""
        self._dropped = _add(self._dropped, lost)
        if self._error is not None:
            return
        if isinstance(exc, ModelwrightError):
            self._error = exc
        else:
            error = ModelwrightError(f"{type(exc).__name__}: {exc}")
            error.__cause__ = exc
            self._error = error

    def _raise_pending(self) -> None:
        if self._error is None:
            return
        err, self._error = self._error, None
        dropped, self._dropped = self._dropped, (0, 0, 0)
        if not any(dropped):
            raise err
        verb = "was" if sum(dropped) == 1 else "were"
        raised = type(err)(
            f"{_describe(dropped)} of run {self.run_id} {verb} not stored: {err.message}",
            details={**err.details, "run_id": self.run_id},
        )
        raise raised from err.__cause__ or err

    def _unsent_error(self, last: Exception, timeout: float) -> ServiceUnavailable:
        with self._lock:
            waiting = (len(self._keys), len(self._params), len(self._tags))
        totals = waiting
        for batch in self._unsent:
            totals = _add(totals, _counts(batch))
        verb = "is" if sum(totals) == 1 else "are"
        return ServiceUnavailable(
            f"{_describe(totals)} of run {self.run_id} {verb} unsent after "
            f"{timeout:g} s of retrying: {last}",
            details={"run_id": self.run_id},
        )


@atexit.register
def _flush_all() -> None:
    # Runs left open share one flush timeout at exit, not one each.
    try:
        timeout = client_settings().flush_timeout
    except InvalidInput:  # nothing can be raised any more: flush with the default
        timeout = ClientSettings.model_fields["flush_timeout"].default
    deadline = time.monotonic() + timeout
    for logger in list(_LIVE):
        try:
            logger.close(timeout=max(0.0, deadline - time.monotonic()))
        except Exception as exc:  # nothing can be raised any more; say it at least
            sys.stderr.write(f"modelwright: logging to run {logger.run_id} failed: {exc}\n")
