"""Client side of registering files: scan, hash (streamed, in parallel) and remember hashes.

Hashing is the expensive part of registering data, so it is done at most once per file
content: a local cache maps (absolute path, size, mtime_ns, inode) to the sha256, and a
re-registration of an unchanged directory only stats its files.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from modelwright.errors import InvalidInput

__all__ = [
    "CHUNK_SIZE",
    "HashCache",
    "LocalFile",
    "OnBytes",
    "batches",
    "default_workers",
    "hash_files",
    "read_buffer",
    "scan",
    "sha256_file",
    "unchanged",
]

CHUNK_SIZE = 1 << 20
# A file modified within this long after its mtime could keep the same mtime (coarse
# filesystem clocks), so such "racy" entries are not cached: they are hashed again next time.
RACY_NS = 100_000_000
# Small files are hashed in batches: one task per file costs more than hashing it.
_BATCH_FILES = 256
_BATCH_BYTES = 32 << 20

OnBytes = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class LocalFile:
    path: str  # absolute
    rel: str  # relative to the registered directory, POSIX separators (the name for a file)
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: str, rel: str, st: os.stat_result) -> LocalFile:
        return cls(path, rel, st.st_size, st.st_mtime_ns, st.st_ino)


def scan(source: Path) -> list[LocalFile]:
    """The regular files of a file or directory (recursively, following links to files but
    not into linked directories), sorted by relative path."""
    root = Path(os.path.abspath(source))
    try:
        st = root.stat()
    except FileNotFoundError:
        raise InvalidInput(
            f"source: '{source}' does not exist", details={"field": "source", "path": str(source)}
        ) from None
    except OSError as exc:
        raise InvalidInput(
            f"source: cannot read '{source}': {exc.strerror}",
            details={"field": "source", "path": str(source)},
        ) from None
    if root.is_file():
        return [LocalFile.of(str(root), root.name, st)]
    if not root.is_dir():
        raise InvalidInput(
            f"source: '{source}' is neither a file nor a directory",
            details={"field": "source", "path": str(source)},
        )
    files: list[LocalFile] = []
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        with os.scandir(directory) as it:
            for entry in it:
                rel = prefix + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel + "/"))
                elif entry.is_file(follow_symlinks=True):
                    files.append(LocalFile.of(entry.path, rel, entry.stat(follow_symlinks=True)))
    if not files:
        raise InvalidInput(
            f"source: directory '{source}' has no files",
            details={"field": "source", "path": str(source)},
        )
    files.sort(key=lambda f: f.rel)
    return files


_local = threading.local()


def read_buffer() -> memoryview:
    """A reusable read buffer per thread: allocating one per file costs more than small files."""
    buf: memoryview | None = getattr(_local, "buf", None)
    if buf is None:
        buf = _local.buf = memoryview(bytearray(CHUNK_SIZE))
    return buf


def sha256_file(path: str, on_bytes: OnBytes | None = None) -> str:
    sha = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        buf = read_buffer()
        while n := f.readinto(buf):
            sha.update(buf[:n])
            if on_bytes is not None:
                on_bytes(n)
    return sha.hexdigest()


def unchanged(f: LocalFile) -> bool:
    """Whether the file still has the size, mtime and inode it had when scanned."""
    try:
        st = os.stat(f.path)
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns, st.st_ino) == (f.size, f.mtime_ns, f.inode)


def default_workers() -> int:
    return min(16, 2 * (os.cpu_count() or 1))


def batches(files: Sequence[LocalFile]) -> Iterator[list[int]]:
    """Indexes of ``files`` grouped so that each task is worth a thread hop."""
    batch: list[int] = []
    size = 0
    for i, f in enumerate(files):
        batch.append(i)
        size += f.size
        if len(batch) >= _BATCH_FILES or size >= _BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def hash_files(
    files: Sequence[LocalFile],
    *,
    workers: int | None = None,
    on_bytes: OnBytes | None = None,
) -> list[str]:
    """sha256 of each file, in order: batches of files hashed on a thread pool (hashlib and
    file reads release the GIL)."""
    digests: list[str] = [""] * len(files)

    def run(batch: list[int]) -> None:
        for i in batch:
            digests[i] = sha256_file(files[i].path, on_bytes)

    groups = list(batches(files))
    if len(groups) <= 1:
        for g in groups:
            run(g)
        return digests
    with ThreadPoolExecutor(workers or default_workers(), thread_name_prefix="mw-hash") as pool:
        for _ in pool.map(run, groups):
            pass
    return digests


class HashCache:
    """(absolute path, size, mtime_ns, inode) → sha256, in a small SQLite file.

    Only a speed-up: any problem with the file (locked, corrupt, read-only) makes the cache
    behave as empty instead of failing the registration.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, timeout=10, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INTEGER, "
                "mtime_ns INTEGER, inode INTEGER, digest TEXT)"
            )
            db.commit()
            self._db = db
        except (sqlite3.Error, OSError):
            self._db = None

    def lookup(self, files: Sequence[LocalFile]) -> dict[str, str]:
        """path → digest for the files whose size, mtime and inode are as cached."""
        if self._db is None or not files:
            return {}
        by_path = {f.path: f for f in files}
        found: dict[str, str] = {}
        paths = list(by_path)
        try:
            for i in range(0, len(paths), 500):
                chunk = paths[i : i + 500]
                marks = ",".join("?" * len(chunk))  # placeholders only: values are bound
                rows = self._db.execute(
                    f"SELECT path, size, mtime_ns, inode, digest FROM hashes WHERE path IN ({marks})",  # noqa: S608
                    chunk,
                )
                for path, size, mtime_ns, inode, digest in rows:
                    f = by_path[path]
                    if (size, mtime_ns, inode) == (f.size, f.mtime_ns, f.inode):
                        found[path] = digest
        except sqlite3.Error:
            return {}
        return found

    def remember(self, pairs: Iterable[tuple[LocalFile, str]]) -> None:
        """Cache digests of files that did not change while they were read, in one go."""
        if self._db is None:
            return
        now = time.time_ns()
        rows = [
            (f.path, f.size, f.mtime_ns, f.inode, digest)
            for f, digest in pairs
            if now - f.mtime_ns > RACY_NS and unchanged(f)
        ]
        if not rows:
            return
        try:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?)", rows)
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def __enter__(self) -> HashCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
