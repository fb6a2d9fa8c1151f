"""Atomic, durable writes on a local disk: stage, fsync, ``os.replace``.

fsspec's own transactional local write (``open(..., autocommit=False)``) stages in the system
temp directory and commits with ``shutil.move``, which silently degrades to copy-and-delete
(visible half-written) when that directory is on another filesystem, and never fsyncs. So the
local backend stages inside the store root, on the same filesystem as the objects, and uses
the two system calls that make the guarantee.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Self

from modelwright.errors import Conflict
from modelwright.store._artifacts_layout import object_key, read_chunks

__all__ = ["LocalWriter", "StagedFile", "staging_name", "sweep_staging"]

# A staged file whose writer cannot be checked (another machine sharing the disk, or a name
# from before owners were recorded) is left alone this long after its last write.
FOREIGN_STAGING_SECONDS = 24 * 3600


def staging_name(kind: str) -> str:
    """The start of a staged file's name: ``kind~pid~host~random``. The owner in the name
    lets the next writer remove what a killed one left behind, and never what a live one
    is still writing."""
    return f"{kind}~{os.getpid()}~{socket.gethostname()}~{uuid.uuid4().hex}"


def sweep_staging(staging: Path, now: float | None = None) -> int:
    """Remove the ``*.part`` files of writers that are gone; return how many went.

    A file is left while its writer (a process of this machine) lives; a file of another
    machine, or without an owner, while it was written to in the last day."""
    try:
        entries = list(os.scandir(staging))
    except FileNotFoundError:
        return 0
    host, now = socket.gethostname(), time.time() if now is None else now
    removed = 0
    for entry in entries:
        if not entry.name.endswith(".part"):
            continue
        parts = entry.name.split("~", 3)
        try:
            if len(parts) == 4 and parts[2] == host and parts[1].isdigit():
                if _alive(int(parts[1])):
                    continue
            elif now - entry.stat(follow_symlinks=False).st_mtime < FOREIGN_STAGING_SECONDS:
                continue
            if entry.is_dir(follow_symlinks=False):
                import shutil

                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
            removed += 1
        except FileNotFoundError:
            continue  # its writer finished, or another sweep took it
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


class StagedFile:
    """A temporary file in ``directory`` that either becomes its destination whole, or vanishes.

    A writer killed mid-write leaves only a ``*.part`` file, which no reader ever looks at.
    """

    def __init__(self, directory: Path, prefix: str = "") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{prefix}{staging_name('put')}.part"
        # O_EXCL on a random name instead of mkstemp: mkstemp forces mode 0600, while an
        # object or download should get the same mode as any file the user creates.
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self._file = os.fdopen(fd, "wb")
        self.sha256 = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self._file.write(chunk)

    def publish(self, dest: Path) -> None:
        """Make the bytes durable, then atomically put them at ``dest`` (replacing it)."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        created = _makedirs(dest.parent)
        os.replace(self.path, dest)
        # The rename itself lives in the directory: without this a crash may forget it.
        _fsync_dir(dest.parent)
        for directory in created:
            _fsync_dir(directory.parent)

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        # After publish the path no longer exists, so this only ever removes a leftover.
        self.discard()


class LocalWriter:
    """Puts objects into a store rooted at a local directory."""

    def __init__(self, root: str) -> None:
        self.root = root
        # Same filesystem as objects/, so os.replace from here is atomic.
        self.staging = Path(root) / "tmp"
        # What killed writers left here goes once per opened store (stores are opened once
        # per process and datastore), before this process stages anything itself.
        sweep_staging(self.staging)

    def put_bytes(self, data: bytes, digest: str) -> None:
        self.put_chunks([data], expected=digest)

    def put_file(self, path: Path) -> str:
        # One pass: read once, write once, hash on the way; a duplicate is dropped after.
        # (Hashing first would save the write for duplicates but cost a second read always.)
        with path.open("rb") as f:
            return self.put_chunks(read_chunks(f))

    def put_chunks(self, chunks: Iterable[bytes], expected: str | None = None) -> str:
        """Store the bytes of ``chunks`` in one pass; hashing happens while writing."""
        with StagedFile(self.staging, prefix="put-") as staged:
            for chunk in chunks:
                staged.write(chunk)
            digest = staged.sha256.hexdigest()
            if expected is not None and digest != expected:
                raise Conflict(
                    f"content changed while it was stored (expected sha256:{expected}, "
                    f"read sha256:{digest}); nothing was stored"
                )
            dest = Path(object_key(self.root, digest))
            if not dest.exists():  # identical bytes are kept once; the staged copy goes
                staged.publish(dest)
        return digest


def _makedirs(directory: Path) -> list[Path]:
    """Create ``directory`` and missing parents; return the ones this call created."""
    created: list[Path] = []
    path = directory
    while not path.exists():
        created.append(path)
        path = path.parent
    for path in reversed(created):
        path.mkdir(exist_ok=True)  # another writer may win the race: fine
    return created


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
