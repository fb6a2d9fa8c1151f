"""Listing a store's objects (what garbage collection sweeps), on a local disk and on S3."""

from __future__ import annotations

import hashlib
import time

from modelwright.store.artifacts import FsspecArtifactStore


def test_every_object_is_listed_with_its_size_and_last_write(
    artifact_store: FsspecArtifactStore,
) -> None:
    before = time.time() - 120  # object stores keep whole seconds, clocks may differ a little
    stored = {artifact_store.put_bytes(bytes([i]) * (100 + i)): 100 + i for i in range(5)}
    listed = {o.digest: o for o in artifact_store.list_objects()}
    assert {d: o.size for d, o in listed.items()} == stored
    assert all(before < o.modified < time.time() + 120 for o in listed.values())
    assert artifact_store.delete(next(iter(stored)))
    assert len(list(artifact_store.list_objects())) == 4


def test_only_objects_are_listed(local_store: FsspecArtifactStore) -> None:
    digest = local_store.put_bytes(b"object")
    for folder in ("tmp", "objects/sha256/zz"):
        local_store.fs.makedirs(f"{local_store.root}/{folder}", exist_ok=True)
    local_store.fs.pipe_file(f"{local_store.root}/tmp/put-x.part", b"being written")
    local_store.fs.pipe_file(f"{local_store.root}/objects/sha256/zz/not-a-digest", b"stray")
    assert [o.digest for o in local_store.list_objects()] == [digest]
    assert digest == hashlib.sha256(b"object").hexdigest()


def test_an_empty_store_lists_nothing(local_store: FsspecArtifactStore) -> None:
    assert list(local_store.list_objects()) == []
