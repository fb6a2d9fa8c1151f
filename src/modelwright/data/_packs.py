"""Many small files stored as a few pack objects.

A directory of 20,000 small files stored one object per file costs a file creation, a rename
and a flush of scattered blocks per file (on S3, a request per file). Packed, each worker
thread appends the files it reads to its own pack, and the pack becomes one ordinary
content-addressed object: a few sequential writes and one flush per pack. The directory's
manifest (``modelwright.manifest/2``) records each file's own sha256 and size and where its
bytes are (pack, offset), and every file is verified against its own digest when read.

Identical bytes are stored once: a file whose content is already placed (in an earlier
version's pack, as an object of its own, or earlier in this batch) is not written again,
only pointed at. On a local store packs are staged in the store's ``tmp`` directory, made
durable (``fdatasync``), renamed into place and their directories flushed before this returns;
elsewhere they are staged in a temporary directory and uploaded with ``put_file``. A failure
removes every staged pack, and an object only ever appears whole.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO

from modelwright.data._bulk import fsync_dir, local_root, object_parents, publish
from modelwright.data.hashing import LocalFile, OnBytes, batches
from modelwright.data.manifest import ManifestEntry
from modelwright.errors import InvalidInput
from modelwright.store._artifacts_layout import corrupted, object_key
from modelwright.store._artifacts_local import staging_name
from modelwright.store.artifacts import ArtifactStore

__all__ = [
    "PACK_FILE_MAX",
    "PACK_TARGET",
    "Location",
    "Placed",
    "check_pack_sizes",
    "pack_files",
    "read_entry",
    "unpack",
]

# Files up to this size are packed; bigger ones stay objects of their own (reading them
# whole into memory would cost more than the file creation saved).
PACK_FILE_MAX = 1 << 20
# A worker starts a new pack once its current one holds this much.
PACK_TARGET = 64 << 20

# Threads reading small files: measured, more than one mostly adds contention (each file is
# a few system calls and a hash too small to run outside the GIL for long).
_WORKERS = 1
_O_READ = os.O_RDONLY | getattr(os, "O_BINARY", 0)
# Appends are written in blocks of about this size.
_WRITE_BUFFER = 1 << 20

# Where some bytes already are: (pack digest, or None for an object of its own; offset).
Location = tuple[str | None, int]


@dataclass(frozen=True, slots=True)
class Placed:
    digest: str
    size: int
    pack: str | None
    offset: int


class _Pack:
    """A pack being written: a staged file, appended to by one thread, hashed on the way."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self.size = 0
        self.files = 0
        self.buffer = bytearray()  # appended files not yet written: few, large writes
        self.sha = hashlib.sha256()
        self.digest = ""

    def append(self, data: bytes) -> int:
        offset = self.size
        self.buffer += data
        if len(self.buffer) >= _WRITE_BUFFER:
            self._flush()
        self.sha.update(data)
        self.size += len(data)
        self.files += 1
        return offset

    def _flush(self) -> None:
        if self.fd is None:
            raise RuntimeError("the pack is closed")
        view = memoryview(self.buffer)
        while view:
            view = view[os.write(self.fd, view) :]
        view.release()
        self.buffer.clear()

    def close(self, *, sync: bool) -> None:
        if self.fd is None:
            return
        try:
            self._flush()
        except BaseException:
            os.close(self.fd)
            self.fd = None
            raise
        fd, self.fd = self.fd, None
        try:
            if sync:
                _datasync(fd)
        finally:
            os.close(fd)
        self.digest = self.sha.hexdigest()


def pack_files(
    store: ArtifactStore,
    files: Sequence[LocalFile],
    *,
    placed: Mapping[str, Location] | None = None,
    exists: Callable[[str], bool] | None = None,
    workers: int | None = None,
    on_bytes: OnBytes | None = None,
) -> list[Placed]:
    """Read, hash and store ``files`` into packs; return where each one's bytes are, in order.

    ``placed``: digests the store already holds, and where. ``exists``: whether the store has
    an object (asked once per new content; None: not asked, e.g. where it costs a request).
    """
    if not files:
        return []
    root = local_root(store)
    staging = os.path.join(root, "tmp") if root else tempfile.mkdtemp(prefix="mw-pack-")
    os.makedirs(staging, exist_ok=True)
    packer = _Packer(files, staging, placed or {}, exists, on_bytes, sync=root is not None)
    try:
        n = min(workers or _WORKERS, len(files))
        if n == 1:
            packer.work()
        else:
            with ThreadPoolExecutor(n, thread_name_prefix="mw-pack") as pool:
                for future in [pool.submit(packer.work) for _ in range(n)]:
                    future.result()
        _store_packs(store, root, packer.packs)
        return packer.result()
    finally:
        packer.stop = True
        packer.discard()
        if not root:
            shutil.rmtree(staging, ignore_errors=True)


class _Packer:
    """The shared state of the threads of one ``pack_files``: each appends to its own pack."""

    def __init__(
        self,
        files: Sequence[LocalFile],
        staging: str,
        placed: Mapping[str, Location],
        exists: Callable[[str], bool] | None,
        on_bytes: OnBytes | None,
        *,
        sync: bool,
    ) -> None:
        self.files = files
        self.prefix = os.path.join(staging, f"{staging_name('pack')}-")
        self.exists = exists
        self.on_bytes = on_bytes
        self.sync = sync
        self.lock = threading.Lock()
        # Where each content is: already stored (a pack digest or None), or in a pack of ours.
        self.where: dict[str, tuple[str | _Pack | None, int]] = dict(placed)
        self.packs: list[_Pack] = []
        self.out: list[tuple[str, int, _Pack | str | None, int] | None] = [None] * len(files)
        self.todo: Iterator[list[int]] = batches(files)
        self.stop = False

    def work(self) -> None:
        pack: _Pack | None = None
        try:
            while not self.stop and (batch := self._next_batch()) is not None:
                for i in batch:
                    pack = self._place(i, pack)
        except BaseException:
            self.stop = True  # the other threads give up too
            raise
        finally:
            if pack is not None:
                pack.close(sync=self.sync)

    def _next_batch(self) -> list[int] | None:
        with self.lock:
            return next(self.todo, None)

    def _place(self, i: int, pack: _Pack | None) -> _Pack:
        data = _read(self.files[i])
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self.where and self.exists is not None and self.exists(digest):
            self.where.setdefault(digest, (None, 0))
        if pack is None or pack.size >= PACK_TARGET:
            if pack is not None:
                pack.close(sync=self.sync)
            pack = self._new_pack()
        with self.lock:  # the first file with these bytes writes them; the others point at them
            found = self.where.get(digest)
            if found is None:
                self.where[digest] = (pack, pack.size)  # only this thread appends to ``pack``
        if found is None:
            self.out[i] = (digest, len(data), pack, pack.append(data))
        else:
            self.out[i] = (digest, len(data), found[0], found[1])
        if self.on_bytes is not None:
            self.on_bytes(len(data))
        return pack

    def _new_pack(self) -> _Pack:
        with self.lock:
            pack = _Pack(f"{self.prefix}{len(self.packs)}.part")
            self.packs.append(pack)
        return pack

    def result(self) -> list[Placed]:
        result: list[Placed] = []
        for item in self.out:
            if item is None:
                raise RuntimeError("a file was not packed")
            digest, size, holder, offset = item
            pack = holder.digest if isinstance(holder, _Pack) else holder
            result.append(Placed(digest, size, pack, offset))
        return result

    def discard(self) -> None:
        """Remove what is left of the staged packs (all of them, after a failure)."""
        for pack in self.packs:
            if pack.fd is not None:
                os.close(pack.fd)
                pack.fd = None
            if os.path.exists(pack.path):
                os.unlink(pack.path)


def _store_packs(store: ArtifactStore, root: str | None, packs: list[_Pack]) -> None:
    """Make the closed packs objects of the store (durable on return)."""
    packs = [p for p in packs if p.files]  # a pack whose files all turned out known
    if root is None:
        for pack in packs:
            if store.put_file(pack.path) != pack.digest:
                raise RuntimeError(f"pack {pack.path} changed while it was stored")
        return
    fresh = []
    for pack in packs:  # (unused packs are removed by the caller)
        if os.path.exists(object_key(root, pack.digest)):
            os.unlink(pack.path)  # the same pack is already stored
        else:
            fresh.append((pack.path, pack.digest))
    # The packs were flushed when closed; now the renames (and any new fan-out directory)
    # are made durable too.
    for directory in [*sorted(publish(root, fresh)), *object_parents(root)]:
        fsync_dir(directory)


def _read(f: LocalFile) -> bytes:
    """The whole file, in as few system calls as possible (it is small)."""
    fd = os.open(f.path, _O_READ)
    try:
        data = os.read(fd, f.size + 1)  # short of that: the end of the file
        if len(data) <= f.size:
            return data
        chunks = [data]  # it grew since it was scanned: read on to its end
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _datasync(fd: int) -> None:
    sync = getattr(os, "fdatasync", os.fsync)  # the data, and the size that reaches it
    sync(fd)


# -- reading ------------------------------------------------------------------------------------
def unpack(
    source: IO[bytes], pack: str, entries: Iterable[ManifestEntry]
) -> Iterator[tuple[ManifestEntry, bytes]]:
    """The bytes of each entry of ``pack`` from a seekable binary file of it, each verified
    against the entry's own digest (``ArtifactCorrupted`` otherwise)."""
    for e in sorted(entries, key=lambda e: e.offset):
        source.seek(e.offset)
        data = source.read(e.size)
        actual = hashlib.sha256(data).hexdigest()
        if actual != e.digest:
            raise corrupted(e.digest, f"pack sha256:{pack} at offset {e.offset}", actual)
        yield e, data


def read_entry(store: ArtifactStore, e: ManifestEntry) -> bytes:
    """One file of a directory version, verified."""
    if e.pack is None:
        return store.get_bytes(e.digest)
    with store.open(e.pack) as f:
        return next(unpack(f, e.pack, [e]))[1]


def check_pack_sizes(store: ArtifactStore, entries: list[ManifestEntry]) -> None:
    """Every packed entry lies inside its pack (``InvalidInput`` otherwise)."""
    ends: dict[str, int] = {}
    for e in entries:
        if e.pack is not None:
            ends[e.pack] = max(ends.get(e.pack, 0), e.offset + e.size)
    for pack, end in ends.items():
        if store.size(pack) < end:
            raise InvalidInput(
                f"digest: the manifest points past the end of pack {pack}",
                details={"field": "digest", "pack": pack},
            )
