"""The embedded path of datasets: objects written straight into a datastore on a local disk
(hashed on the way, one durability barrier per batch) and read back by hard link or copy."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from modelwright.client._progress import Meter
from modelwright.data._bulk import local_root, put_files
from modelwright.data._packs import PACK_FILE_MAX, Location, pack_files
from modelwright.data.hashing import LocalFile
from modelwright.data.manifest import ManifestEntry
from modelwright.objects.models import ObjectScope
from modelwright.store._artifacts_layout import object_key
from modelwright.store.artifacts import ArtifactStore, location_of, storage_errors

__all__ = ["Batch", "Stored", "link_or_copy", "store_local"]


@dataclass(frozen=True)
class Batch:
    """Files to store in a datastore, with what is known of them already: ``known``, their
    digests from the hash cache (by path); ``placed``, where contents are in the datastore
    (by digest)."""

    files: list[LocalFile]
    known: dict[str, str]
    placed: dict[str, Location]


# What storing a batch of files gives: their manifest entries, and the files hashed meanwhile
# with their digests (for the hash cache).
Stored = tuple[list[ManifestEntry], list[tuple[LocalFile, str]]]


def store_local(store: ArtifactStore, scope: ObjectScope, batch: Batch, meter: Meter) -> Stored:
    """Embedded: copy what the datastore lacks into it, hashing while copying. The small
    files of a directory go into packs, the others into objects of their own."""
    files, known, placed = batch.files, batch.known, batch.placed
    entries: list[ManifestEntry | None] = [None] * len(files)
    todo = []
    for i, f in enumerate(files):
        digest = known.get(f.path)
        where = placed.get(digest) if digest else None
        if digest and where is not None:
            entries[i] = ManifestEntry(f.rel, digest, f.size, *where)
        else:
            todo.append(i)
    packed = [i for i in todo if len(files) > 1 and files[i].size <= PACK_FILE_MAX]
    alone = [i for i in todo if not (len(files) > 1 and files[i].size <= PACK_FILE_MAX)]
    meter.start("store", sum(files[i].size for i in todo))
    root = local_root(store)
    with storage_errors(scope.describe(), location_of(store)):
        for i, digest in zip(
            alone, put_files(store, [files[i] for i in alone], on_bytes=meter.add), strict=True
        ):
            entries[i] = ManifestEntry(files[i].rel, digest, files[i].size)
        stored = pack_files(
            store,
            [files[i] for i in packed],
            placed=placed,
            exists=_ObjectExists(root) if root else None,
            on_bytes=meter.add,
        )
    for i, p in zip(packed, stored, strict=True):
        entries[i] = ManifestEntry(files[i].rel, p.digest, p.size, p.pack, p.offset)
    done = [e for e in entries if e is not None]
    if len(done) != len(files):
        raise RuntimeError("a file was not stored")
    return done, [(files[i], done[i].digest) for i in todo]


class _ObjectExists:
    """Whether a local store holds an object, asked once per file of a directory: a fan-out
    directory (``objects/sha256/ab``) seen missing is not asked about again, so a new or
    small store costs at most 256 ``stat`` calls, not one per file. Only an optimisation
    (an object stored meanwhile by another process is packed again, never lost)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.missing: set[str] = set()

    def __call__(self, digest: str) -> bool:
        fanout = digest[:2]
        if fanout in self.missing:
            return False
        key = object_key(self.root, digest)
        if os.path.exists(key):
            return True
        if not os.path.isdir(os.path.dirname(key)):
            self.missing.add(fanout)
        return False


def link_or_copy(store: ArtifactStore, digest: str, dest: Path) -> Path:
    """Embedded, a file of a dataset lands in the download cache as a read-only hard link to
    its object, checked against its digest: no bytes are written, which for large inputs is
    most of the cost of reading them (a batch job over a 1 GB table spent more time copying
    it than predicting). Objects never change, so the link is made read-only like them.
    Anywhere linking is not possible (another filesystem, an object store) it is a verified
    copy as before."""
    source = store.local_path(digest)
    if source is not None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        staged = dest.parent / f".{dest.name}.{uuid.uuid4().hex}.link"
        try:
            os.link(source, staged)
        except OSError:
            pass  # missing (get_file says so), another filesystem, or no links there: copy
        else:
            try:
                store.verify(digest)
                os.chmod(staged, 0o444)
                os.replace(staged, dest)
                return dest
            finally:
                staged.unlink(missing_ok=True)
    return store.get_file(digest, dest)
