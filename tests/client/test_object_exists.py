"""Registering a directory asks, per small file, whether the store holds its bytes already."""

from __future__ import annotations

import hashlib
from pathlib import Path

from modelwright.client._local_store import _ObjectExists
from modelwright.store._artifacts_layout import object_key


def test_stored_objects_are_found_and_missing_fanouts_are_not_asked_again(tmp_path: Path) -> None:
    root = str(tmp_path)
    stored = hashlib.sha256(b"stored").hexdigest()
    key = Path(object_key(root, stored))
    key.parent.mkdir(parents=True)
    key.write_bytes(b"stored")
    exists = _ObjectExists(root)

    assert exists(stored)
    sibling = stored[:2] + "0" * 62  # same fan-out directory, not stored
    assert not exists(sibling)
    assert stored[:2] not in exists.missing  # the directory is there: each file is asked

    other = next(
        d
        for d in (hashlib.sha256(bytes([i])).hexdigest() for i in range(256))
        if d[:2] != stored[:2]
    )
    assert not exists(other)
    assert other[:2] in exists.missing  # not asked again for this fan-out directory
