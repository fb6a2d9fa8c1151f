"""Putting many local files into a store at once.

``ArtifactStore.put_file`` makes each object durable on its own (fsync of the file and of its
directory), which is right for one artifact but costs milliseconds per object (measured:
~6 ms each one by one, ~0.4 ms each from 16 threads; 20,000 small files ≈ 8 s at best). A
dataset version is only recorded once all of its objects are stored, so durability is needed
per batch, not per object. On a local store this module keeps the store's guarantees (an
object is absent or complete and matches its digest; once the call returns it survives a
crash):

1. copy each file into the store's staging directory, hashing on the way (one read, 1 MiB
   at a time so each chunk is hashed and written while in the CPU cache; measured, handing
   chunks of a big file to a second thread to write was slower on two busy cores); a copy
   of content the store already has is dropped at once;
2. make the staged bytes durable: with a few files, ``fdatasync`` of each (only these files'
   blocks are written); with many, one ``syncfs`` (one flush instead of a journal commit
   per file) — on systems without ``syncfs``, an fsync per staged file;
3. rename each staged file to its object path;
4. make the renames durable: an fsync of each directory renamed into, or with many files
   one more ``syncfs``.

Both barriers are needed: a rename made durable before the bytes it names (ext4's delayed
allocation, XFS) can leave an empty or partial file at an object's path after a crash.

Many small files are better packed (``_packs``); this is for the others. Other stores (S3,
…) get ``put_file`` from a thread pool.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from modelwright.data.hashing import LocalFile, OnBytes, batches, default_workers, read_buffer
from modelwright.store._artifacts_layout import object_key
from modelwright.store._artifacts_local import staging_name
from modelwright.store.artifacts import ArtifactStore

__all__ = ["fsync_dir", "local_root", "object_parents", "publish", "put_files"]

# A digest whose would-be path shows where a store keeps its objects.
_PROBE = "0" * 64
# Up to this many staged objects, each is flushed on its own; beyond, the filesystem at once.
_FEW = 32


def local_root(store: ArtifactStore) -> str | None:
    """The root directory of a store that keeps its objects as local files laid out as this
    module writes them (``<root>/objects/sha256/ab/cdef…``); None for any other store, which
    then gets ``put_file`` calls."""
    probe = store.local_path(_PROBE)
    if probe is None:
        return None
    root = str(probe.parents[3])
    return root if str(probe) == object_key(root, _PROBE) else None


def put_files(
    store: ArtifactStore,
    files: Sequence[LocalFile],
    *,
    workers: int | None = None,
    on_bytes: OnBytes | None = None,
) -> list[str]:
    """Store every file; return their digests in order."""
    if not files:
        return []
    root = local_root(store)
    if root is not None:
        return _put_local(root, files, workers or default_workers(), on_bytes)
    return _put_each(store, files, workers or default_workers(), on_bytes)


def _put_each(
    store: ArtifactStore, files: Sequence[LocalFile], workers: int, on_bytes: OnBytes | None
) -> list[str]:
    def put(f: LocalFile) -> str:
        digest = store.put_file(f.path)
        if on_bytes is not None:
            on_bytes(f.size)
        return digest

    with ThreadPoolExecutor(workers, thread_name_prefix="mw-put") as pool:
        return list(pool.map(put, files))


def _put_local(
    root: str, files: Sequence[LocalFile], workers: int, on_bytes: OnBytes | None
) -> list[str]:
    staging = os.path.join(root, "tmp")
    os.makedirs(staging, exist_ok=True)
    syncfs = _syncfs() if len(files) > _FEW else None
    per_file_fsync = syncfs is None
    # Unique per call; O_EXCL on each name guards against any collision anyway.
    prefix = os.path.join(staging, f"{staging_name('bulk')}-")
    staged: list[tuple[str | None, str] | None] = [None] * len(files)

    def stage_batch(batch: list[int]) -> None:
        for i in batch:
            tmp = f"{prefix}{i}.part"
            digest = _stage(files[i], tmp, on_bytes, fsync=per_file_fsync)
            if os.path.exists(object_key(root, digest)):
                # Known content: drop the copy now, while it is only in the page cache
                # (removing it after the flush below costs a journal write per file).
                os.unlink(tmp)
                staged[i] = (None, digest)
            else:
                staged[i] = (tmp, digest)

    try:
        groups = list(batches(files))
        if len(groups) == 1:
            stage_batch(groups[0])
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="mw-stage") as pool:
                for _ in pool.map(stage_batch, groups):
                    pass
        ready = [item for item in staged if item is not None]
        if len(ready) != len(files):  # every batch ran, or map() raised above
            raise RuntimeError("a file was not staged")
        fresh = [(tmp, digest) for tmp, digest in ready if tmp is not None]
        if fresh:
            if syncfs is not None:
                syncfs(staging)  # the bytes are on disk before any object name points at them
            directories = publish(root, fresh)
            if syncfs is not None:
                syncfs(staging)  # and so are the renames
            else:
                for directory in [*sorted(directories), *object_parents(root)]:
                    fsync_dir(directory)
        return [digest for _, digest in ready]
    finally:
        for item in staged:
            if item is not None and item[0] is not None and os.path.exists(item[0]):
                os.unlink(item[0])


def object_parents(root: str) -> list[str]:
    """The directories above the fan-out ones, flushed in case a fan-out one was created."""
    objects = os.path.join(root, "objects")
    return [os.path.join(objects, "sha256"), objects, root]


def publish(root: str, staged: list[tuple[str, str]]) -> set[str]:
    """Rename each staged file to its object path; return the directories renamed into.

    An object that appeared meanwhile is replaced by the same bytes: harmless.
    """
    directories: set[str] = set()
    for tmp, digest in staged:
        dest = object_key(root, digest)
        parent = os.path.dirname(dest)
        directories.add(parent)
        try:
            os.replace(tmp, dest)
        except FileNotFoundError:
            os.makedirs(parent, exist_ok=True)  # the first object of its fan-out directory
            os.replace(tmp, dest)
    return directories


def _stage(f: LocalFile, tmp: str, on_bytes: OnBytes | None, *, fsync: bool) -> str:
    """Copy ``f`` to ``tmp`` and return the sha256 of the bytes copied (one read)."""
    # Mode 0666 & umask: objects get the mode of any file the user creates.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with open(f.path, "rb", buffering=0) as src:
            digest = _copy(src, fd, on_bytes)
        if fsync:
            getattr(os, "fdatasync", os.fsync)(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    return digest


def _copy(src: io.FileIO, dst: int, on_bytes: OnBytes | None) -> str:
    sha = hashlib.sha256()
    buf = read_buffer()
    while n := src.readinto(buf):
        chunk = buf[:n]
        sha.update(chunk)
        _write_all(dst, chunk)
        if on_bytes is not None:
            on_bytes(n)
    return sha.hexdigest()


def _write_all(fd: int, data: memoryview) -> None:
    while data:
        data = data[os.write(fd, data) :]


def _syncfs() -> Callable[[str], None] | None:
    """``syncfs(2)``: flush one filesystem and wait. Linux only; None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.syncfs
    except (OSError, AttributeError):
        return None

    def flush(directory: str) -> None:
        fd = os.open(directory, os.O_RDONLY)
        try:
            if call(fd) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"syncfs failed: {os.strerror(err)}", str(directory))
        finally:
            os.close(fd)

    return flush


def fsync_dir(directory: str) -> None:
    if sys.platform == "win32":
        return  # NTFS journals renames; directories cannot be opened for fsync
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
