"""The artifact store: immutable blobs addressed by the sha256 of their bytes.

Objects live at ``<root>/objects/sha256/ab/cdef…`` on any fsspec filesystem (a local
directory by default, ``s3://bucket/prefix`` through s3fs). Writes are atomic: an object is
either absent or complete, also when the writer is killed. Reads are verified: bytes that no
longer hash to their address raise ``ArtifactCorrupted`` instead of being returned.

Reading and bookkeeping are the same fsspec calls on every filesystem; only how bytes become
visible atomically differs, so that part is a writer per kind (``_artifacts_local`` for
disks, ``_artifacts_remote`` for object stores).

Other backends come from packages: ``open_artifact_store`` asks the stores registered for a
URL's scheme (``ARTIFACT_STORES``, entry point group ``modelwright.artifact_stores``) first.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from modelwright.errors import InvalidInput, StorageError
from modelwright.plugins import PluginRegistry
from modelwright.store._artifacts_layout import (
    CHUNK_SIZE,
    ByteSource,
    Readable,
    check_digest,
    chunks_of,
    corrupted,
    missing,
    object_key,
    read_chunks,
)
from modelwright.store._artifacts_local import LocalWriter, StagedFile
from modelwright.store._artifacts_remote import RemoteWriter

__all__ = [
    "ARTIFACT_STORES",
    "CHUNK_SIZE",
    "ENTRY_POINT_GROUP",
    "ArtifactStore",
    "ArtifactStoreFactory",
    "ByteSource",
    "FsspecArtifactStore",
    "Readable",
    "StoredObject",
    "location_of",
    "open_artifact_store",
    "register_artifact_store",
    "storage_errors",
]

StrPath = str | os.PathLike[str]

# What an OSError's errno says about a store that was being written to.
_STORAGE_ERRNOS = {
    errno.ENOSPC: "full",
    errno.EDQUOT: "full",
    errno.EROFS: "read-only",
    errno.EACCES: "not-writable",
    errno.EPERM: "not-writable",
}
# Existence checks asked of an object store one after the other; more are overlapped.
_EXISTS_BATCH = 64
_DIGEST = re.compile(r"[0-9a-f]{64}")
_PROBLEMS = {
    "full": "no space is left on its disk",
    "read-only": "it is read-only",
    "not-writable": "it may not be written to",
}


def location_of(store: Any) -> str:
    """Where a store keeps its objects: a local directory, or a URL."""
    return str(getattr(store, "root", None) or getattr(store, "url", None) or store)


@contextmanager
def storage_errors(store: str, root: str) -> Iterator[None]:
    """Writing bytes into the store at ``root``: an OSError saying the store cannot keep them
    (a full disk or quota, a read-only filesystem, no permission) becomes a ``StorageError``
    naming ``store`` (``"datastore ws/env/name"``, ``"the artifact store"``). A permission
    error on another path (the source being read) stays what it is."""
    try:
        yield
    except OSError as exc:
        reason = _STORAGE_ERRNOS.get(exc.errno or 0)
        if reason is None or (
            reason == "not-writable" and not str(exc.filename or root).startswith(root)
        ):
            raise
        code = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        raise StorageError(
            f"{store} (at '{root}') cannot store this: {_PROBLEMS[reason]} "
            f"({code}: {exc.strerror})",
            details={"store": store, "location": root, "reason": reason},
        ) from exc


class ArtifactStore(Protocol):
    """What the platform needs from an artifact store backend.

    A digest is the sha256 of an object's bytes as 64 lowercase hex characters; any other
    string raises ``InvalidInput``. Missing objects raise ``NotFound``; objects whose bytes
    no longer match their digest raise ``ArtifactCorrupted``. ``modelwright.testing.
    check_artifact_store`` checks an implementation against this contract.
    """

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its digest. Storing existing content is a cheap no-op."""
        ...

    def put_file(self, path: StrPath) -> str:
        """Store a local file, streamed in chunks; return its digest."""
        ...

    def put_stream(self, source: ByteSource) -> str:
        """Store a binary stream or an iterable of bytes chunks, read once; return its digest."""
        ...

    def get_bytes(self, digest: str) -> bytes:
        """The object's bytes, verified against the digest."""
        ...

    def get_file(self, digest: str, dest: StrPath) -> Path:
        """Write the object to ``dest``, streamed and verified; ``dest`` appears only whole."""
        ...

    def iter_chunks(self, digest: str) -> Iterator[bytes]:
        """The object's bytes in chunks. The digest is checked at the end: the iterator raises
        ``ArtifactCorrupted`` instead of finishing, so act on the data only once exhausted.
        ``NotFound`` is raised on the first iteration."""
        ...

    def open(self, digest: str) -> IO[bytes]:
        """A seekable binary file of the object, read in place (ranges only, on object
        stores). Not verified: check what is read against its own digest (each file of a
        pack has one). ``NotFound`` if the object is missing."""
        ...

    def local_path(self, digest: str) -> Path | None:
        """The file on this machine where the object's bytes are (or would be, once stored),
        to be read in place and never written; ``None`` for a store that keeps no local files
        (an object store): read through ``open`` or ``get_file`` then."""
        ...

    def exists(self, digest: str) -> bool: ...

    def missing(self, digests: Iterable[str]) -> list[str]:
        """The digests the store lacks, each once, in the order given: one question for many
        objects, so a store can answer it cheaper than an ``exists`` each."""
        ...

    def size(self, digest: str) -> int:
        """Size in bytes (not verified)."""
        ...

    def verify(self, digest: str) -> None:
        """Re-read the object; raise ``ArtifactCorrupted`` if it does not match its digest."""
        ...

    def delete(self, digest: str) -> bool:
        """Remove the object; return whether it existed. Deleting and storing again is how a
        corrupted object is repaired (a put of existing content is skipped)."""
        ...

    def url_for(self, digest: str) -> str:
        """A URL of the object for fsspec-aware tools (``file://…``, ``s3://…``)."""
        ...


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object as listed: its digest, size and when it was last written (epoch seconds)."""

    digest: str
    size: int
    modified: float


class _Writer(Protocol):
    """How bytes become a visible object on one kind of filesystem, atomically."""

    def put_bytes(self, data: bytes, digest: str) -> None: ...

    def put_file(self, path: Path) -> str: ...

    def put_chunks(self, chunks: Iterable[bytes]) -> str: ...


class FsspecArtifactStore:
    """The built-in ``ArtifactStore`` over an fsspec filesystem and a root path on it."""

    def __init__(self, fs: Any, root: str) -> None:
        # fsspec is imported by stores only: a remote client names them without opening one.
        from fsspec.implementations.local import LocalFileSystem

        self.fs = fs
        self.root = root.rstrip("/")
        if not self.root:
            raise InvalidInput("the artifact store needs a directory, not the filesystem root")
        self._local = isinstance(fs, LocalFileSystem)
        self._writer: _Writer = (
            LocalWriter(self.root) if self._local else RemoteWriter(fs, self.root)
        )

    @property
    def url(self) -> str:
        return str(self.fs.unstrip_protocol(self.root))

    def __repr__(self) -> str:
        return f"FsspecArtifactStore({self.url!r})"

    # -- writing ------------------------------------------------------------------------------
    def put_bytes(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if not self.exists(digest):
            self._writer.put_bytes(data, digest)
        return digest

    def put_file(self, path: StrPath) -> str:
        return self._writer.put_file(Path(path))

    def put_stream(self, source: ByteSource) -> str:
        return self._writer.put_chunks(chunks_of(source))

    # -- reading ------------------------------------------------------------------------------
    def get_bytes(self, digest: str) -> bytes:
        key = self._key(digest)
        try:
            data: bytes = self.fs.cat_file(key)
        except FileNotFoundError:
            raise missing(digest, self.url) from None
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise corrupted(digest, self.fs.unstrip_protocol(key), actual)
        return data

    def get_file(self, digest: str, dest: StrPath) -> Path:
        dest = Path(dest)
        chunks = self.iter_chunks(digest)
        # Staged next to dest so the final rename is atomic; dest is untouched on any error.
        with StagedFile(dest.parent, prefix=f".{dest.name}.") as staged:
            for chunk in chunks:
                staged.write(chunk)
            staged.publish(dest)
        return dest

    def iter_chunks(self, digest: str) -> Iterator[bytes]:
        key = self._key(digest)  # validated now, not at the first next()
        return self._verified_chunks(digest, key)

    def _verified_chunks(self, digest: str, key: str) -> Iterator[bytes]:
        sha = hashlib.sha256()
        try:
            f = self.fs.open(key, "rb")
        except FileNotFoundError:
            raise missing(digest, self.url) from None
        with f:
            for chunk in read_chunks(f):
                sha.update(chunk)
                yield chunk
        if sha.hexdigest() != digest:
            raise corrupted(digest, self.fs.unstrip_protocol(key), sha.hexdigest())

    def verify(self, digest: str) -> None:
        for _ in self.iter_chunks(digest):
            pass

    def open(self, digest: str) -> IO[bytes]:
        key = self._key(digest)
        try:
            f: IO[bytes] = self.fs.open(key, "rb")
        except FileNotFoundError:
            raise missing(digest, self.url) from None
        return f

    def local_path(self, digest: str) -> Path | None:
        key = self._key(digest)  # a bad digest is refused on every store
        return Path(key) if self._local else None

    # -- bookkeeping --------------------------------------------------------------------------
    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(self._key(digest)))

    def missing(self, digests: Iterable[str]) -> list[str]:
        unique = list(dict.fromkeys(digests))
        if self._local:
            # A stat per object: fsspec's exists() costs ten times more, per call.
            return [d for d in unique if not os.path.exists(self._key(d))]
        if len(unique) <= _EXISTS_BATCH:
            return [d for d in unique if not self.exists(d)]
        # An existence check is a round trip on object stores: overlap them.
        step = _EXISTS_BATCH
        chunks = [unique[i : i + step] for i in range(0, len(unique), step)]
        with ThreadPoolExecutor(16, thread_name_prefix="mw-exists") as pool:
            found = pool.map(lambda chunk: [d for d in chunk if not self.exists(d)], chunks)
            return [d for lacking in found for d in lacking]

    def size(self, digest: str) -> int:
        try:
            return int(self.fs.size(self._key(digest)))
        except FileNotFoundError:
            raise missing(digest, self.url) from None

    def delete(self, digest: str) -> bool:
        key = self._key(digest)
        # Checked first because S3 reports success when deleting a key that is not there.
        if not self.fs.exists(key):
            return False
        try:
            self.fs.rm_file(key)
        except FileNotFoundError:
            return False  # a concurrent delete won
        return True

    def url_for(self, digest: str) -> str:
        return str(self.fs.unstrip_protocol(self._key(digest)))

    def list_objects(self) -> Iterator[StoredObject]:
        """Every object of the store, with its size and last write (what garbage collection
        sweeps): the staging area and anything not named by a digest are left out."""
        base = f"{self.root}/objects/sha256"
        try:
            found = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return
        prefix = len(self.fs._strip_protocol(base)) + 1
        for path, info in found.items():
            fan, _, rest = str(path)[prefix:].partition("/")
            digest = fan + rest
            if len(fan) != 2 or not _DIGEST.fullmatch(digest) or info.get("type") != "file":
                continue
            yield StoredObject(digest, int(info.get("size") or 0), _modified(info))

    def path_for(self, digest: str) -> str:
        """The object's path on ``self.fs``, for tools that work on the filesystem directly."""
        return self._key(digest)

    def _key(self, digest: str) -> str:
        return object_key(self.root, check_digest(digest))


def _modified(info: dict[str, Any]) -> float:
    """When an object was last written, from what fsspec's filesystems report: ``mtime``
    (local, memory), ``LastModified`` (S3), ``last_modified`` (Azure), ``updated`` (GCS)."""
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
        if isinstance(value, str) and value:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
            except ValueError:
                continue
    # Unknown: as if written now, so that garbage collection never takes it as old.
    return time.time()


@runtime_checkable
class ArtifactStoreFactory(Protocol):
    """Opens the stores of one URL scheme (``name``: ``"myfs"`` for ``myfs://…``)."""

    name: str

    def open(self, url: str, **options: Any) -> ArtifactStore:
        """The store at ``url``; ``options`` as given to ``open_artifact_store``."""
        ...


ENTRY_POINT_GROUP = "modelwright.artifact_stores"

# Stores by URL scheme. A URL whose scheme none claims (a local path, ``s3://``, any other
# fsspec protocol) opens the built-in ``FsspecArtifactStore``.
ARTIFACT_STORES: PluginRegistry[ArtifactStoreFactory] = PluginRegistry(
    ArtifactStoreFactory, ENTRY_POINT_GROUP, kind="artifact store", article="an"
)


def register_artifact_store(
    factory: ArtifactStoreFactory, *, replace: bool = False
) -> ArtifactStoreFactory:
    """Open URLs of the scheme ``factory.name`` with ``factory``; a taken scheme is an error
    unless ``replace``."""
    return ARTIFACT_STORES.register(factory, replace=replace)


def open_artifact_store(url: str, **storage_options: Any) -> ArtifactStore:
    """The store at ``url``: a local path or a URL (``s3://bucket/prefix``), opened by the
    store registered for its scheme, else by fsspec.

    ``storage_options`` go to the store, for fsspec to the filesystem, e.g. ``endpoint_url``,
    ``key`` and ``secret`` for s3fs.
    """
    scheme, sep, _ = url.partition("://")
    factory = ARTIFACT_STORES.get(scheme) if sep else None  # a plain path has no scheme
    if factory is not None:
        return factory.open(url, **storage_options)
    import fsspec.core

    fs, root = fsspec.core.url_to_fs(url, **storage_options)
    return FsspecArtifactStore(fs, root)
