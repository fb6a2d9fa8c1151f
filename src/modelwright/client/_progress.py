"""Progress of moving a dataset's bytes, reported to a caller's callback."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["Meter", "Progress"]

# progress(phase, done_bytes, total_bytes); phase is "hash" (reading to hash) or "store"
# (copying into the datastore or uploading). Called from worker threads, serialised.
Progress = Callable[[str, int, int], None]


class Meter:
    """Adds up bytes from many threads and reports them a few hundred times at most."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._lock = threading.Lock()
        self.phase = ""
        self.done = 0
        self.total = 0
        self._step = 1
        self._next = 0

    def start(self, phase: str, total: int) -> None:
        with self._lock:
            self.phase, self.done, self.total = phase, 0, total
            self._step = max(1, total // 500)
            self._next = self._step
        if self._progress is not None:
            self._progress(phase, 0, total)

    def add(self, n: int) -> None:
        if self._progress is None:
            return
        with self._lock:
            self.done += n
            if self.done < self._next and self.done < self.total:
                return
            self._next = self.done + self._step
            self._progress(self.phase, self.done, self.total)
