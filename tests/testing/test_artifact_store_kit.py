"""The artifact store conformance kit catches broken backends, and says which check failed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fsspec.implementations.local import LocalFileSystem

from modelwright.store.artifacts import FsspecArtifactStore
from modelwright.testing import check_artifact_store


def store_of(cls: type[FsspecArtifactStore], tmp_path: Path) -> FsspecArtifactStore:
    return cls(LocalFileSystem(), str(tmp_path / "artifacts"))


def overwrite(store: FsspecArtifactStore):  # type: ignore[no-untyped-def]
    def corrupt(digest: str) -> None:
        path = Path(store.path_for(digest))
        path.unlink()
        path.write_bytes(b"not what was stored")

    return corrupt


class TrustingReads(FsspecArtifactStore):
    def get_bytes(self, digest: str) -> bytes:
        return bytes(self.fs.cat_file(self.path_for(digest)))


class SloppyDigests(FsspecArtifactStore):
    def exists(self, digest: str) -> bool:
        return bool(self.fs.exists(f"{self.root}/objects/{digest}"))


class ForgetfulDelete(FsspecArtifactStore):
    def delete(self, digest: str) -> bool:
        return True


class Md5Addresses(FsspecArtifactStore):
    def put_bytes(self, data: bytes) -> str:
        super().put_bytes(data)
        return hashlib.md5(data).hexdigest() * 2


class BrokenSize(FsspecArtifactStore):
    def size(self, digest: str) -> int:
        raise RuntimeError("backend exploded")


@pytest.mark.parametrize(
    ("cls", "check", "message"),
    [
        (TrustingReads, "corruption_detected", "get_bytes() of a corrupted object raised nothing"),
        (SloppyDigests, "invalid_digests", "exists('') raised nothing, expected InvalidInput"),
        (ForgetfulDelete, "delete", "exists() is true after delete()"),
        (Md5Addresses, "round_trip", "expected the sha256 of the data"),
        (BrokenSize, "round_trip", "unexpected RuntimeError: backend exploded"),
    ],
)
def test_the_kit_fails_a_broken_store_naming_the_check(
    cls: type[FsspecArtifactStore], check: str, message: str, tmp_path: Path
) -> None:
    store = store_of(cls, tmp_path)

    with pytest.raises(AssertionError) as caught:
        check_artifact_store(store, corrupt=overwrite(store), checks=[check])

    assert f"check_artifact_store[{check}]" in str(caught.value)
    assert message in str(caught.value)


def test_unknown_checks_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown checks"):
        check_artifact_store(store_of(FsspecArtifactStore, tmp_path), checks=["speed"])
