"""Progress of moving a dataset's bytes, reported to a caller's callback."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Task, TaskID

__all__ = ["Meter", "Progress", "ShowProgress", "progress_of"]

# progress(phase, done, total); phase is "hash" (bytes read to hash), "store" (bytes copied
# into the datastore or uploaded), "rows" (rows of a DataFrame written as Parquet) or
# "profile" (the service reading the stored table for its schema and profile: total 0 until
# it ends, then the bytes read). A total of 0 is unknown. Called from worker threads,
# serialised.
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


# What a caller passes as ``progress``: bars drawn on stderr (True), none (False), bars only
# in a terminal or a notebook (None), or a callback of its own.
ShowProgress = bool | Progress | None

_PHASES = {"hash": "hashing", "store": "storing", "rows": "writing", "profile": "profiling"}
_ROWS = frozenset({"rows"})  # phases counted in rows; the others in bytes


@contextmanager
def progress_of(progress: ShowProgress) -> Iterator[Progress | None]:
    """The callback that ``progress`` asks for, drawing rich progress bars if it asks for
    them: rich draws them in a terminal and in Jupyter alike."""
    if callable(progress) or progress is False:
        yield progress or None
        return
    from rich.console import Console

    err = Console(stderr=True)
    if progress is None and not (err.is_terminal or err.is_jupyter):
        yield None
        return
    with _bars(err) as update:
        yield update


@contextmanager
def _bars(console: Console) -> Iterator[Progress]:
    """One bar per phase: bytes (or rows) done, speed, time left; a phase of unknown size
    (total 0) pulses until it reports its end."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )
    from rich.progress import Progress as Bars
    from rich.text import Text

    downloaded, speed = DownloadColumn(binary_units=True), TransferSpeedColumn()

    class Amount(ProgressColumn):
        def render(self, task: Task) -> Text:
            if task.fields.get("rows"):
                total = f"/{int(task.total):,}" if task.total is not None else ""
                return Text(f"{int(task.completed):,}{total} rows", style="progress.download")
            return downloaded.render(task)

    class Speed(ProgressColumn):
        def render(self, task: Task) -> Text:
            return Text("") if task.fields.get("rows") else speed.render(task)

    bars = Bars(
        TextColumn("{task.description:<9}"),
        BarColumn(),
        Amount(),
        Speed(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bars.add_task(
                _PHASES.get(phase, phase), total=total or None, rows=phase in _ROWS
            )
        bars.update(tasks[phase], completed=done, total=total or None)

    with bars:
        yield update
