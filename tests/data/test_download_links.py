"""Embedded downloads of dataset files are read-only hard links to their checked objects."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import modelwright
from modelwright.errors import ArtifactCorrupted


def test_a_downloaded_file_is_a_checked_read_only_link(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 << 20))
    with modelwright.connect(tmp_path / "home") as client:
        info = client.register_dataset("blob", source)
        path = client.load_dataset("blob@v1", as_="path")
        assert isinstance(path, Path) and path.read_bytes() == source.read_bytes()
        stat = path.stat()
        assert stat.st_nlink == 2 and not stat.st_mode & 0o222  # shared with the object
        objects = [
            p for p in (tmp_path / "home").rglob(info.digest[2:]) if p.is_file() and p != path
        ]
        assert len(objects) == 1 and objects[0].stat().st_ino == stat.st_ino

        # A damaged object is never handed out: the check runs before the link appears.
        path.unlink()
        objects[0].chmod(0o644)
        objects[0].write_bytes(b"tampered")
        with pytest.raises(ArtifactCorrupted):
            client.load_dataset("blob@v1", as_="path")
        assert not path.exists()
