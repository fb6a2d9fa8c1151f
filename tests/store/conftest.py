"""Artifact stores for the tests: a local directory, and S3 on a moto server of this process.

Each xdist worker starts its own moto server (session scope) on a free port; each test gets a
bucket of its own, so nothing is shared between tests or workers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from modelwright.store.artifacts import FsspecArtifactStore, open_artifact_store
from modelwright.testing import LocalS3Server

# The smallest part S3 accepts: the kit's 24 MiB object then really goes up in several parts.
S3_BLOCK = 5 * 2**20


@pytest.fixture(scope="session")
def s3_server() -> Iterator[LocalS3Server]:
    with LocalS3Server() as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server: LocalS3Server) -> str:
    return s3_server.new_bucket()


@pytest.fixture
def s3_store(s3_server: LocalS3Server, s3_bucket: str) -> FsspecArtifactStore:
    return open_artifact_store(
        f"s3://{s3_bucket}/artifacts", default_block_size=S3_BLOCK, **s3_server.storage_options
    )


@pytest.fixture
def local_store(tmp_path: Path) -> FsspecArtifactStore:
    return open_artifact_store(str(tmp_path / "artifacts"))


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def artifact_store(request: pytest.FixtureRequest) -> FsspecArtifactStore:
    """Every built-in backend: tests taking this run once per backend."""
    store: FsspecArtifactStore = request.getfixturevalue(f"{request.param}_store")
    return store


def flip_first_byte(store: FsspecArtifactStore) -> Callable[[str], None]:
    """Damage an object in place, keeping its size: only the hash can tell."""

    def corrupt(digest: str) -> None:
        path = store.path_for(digest)
        data = bytearray(store.fs.cat_file(path))
        data[0] ^= 0xFF
        store.fs.rm_file(path)  # objects need not be writable in place
        store.fs.pipe_file(path, bytes(data))

    return corrupt


@pytest.fixture
def corrupt(artifact_store: FsspecArtifactStore) -> Callable[[str], None]:
    return flip_first_byte(artifact_store)
