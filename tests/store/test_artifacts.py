"""The artifact store contract, on every built-in backend (local directory and S3)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from modelwright.errors import ArtifactCorrupted, InvalidInput
from modelwright.settings import Settings
from modelwright.store.artifacts import FsspecArtifactStore, open_artifact_store
from modelwright.testing import ARTIFACT_STORE_CHECKS, LocalS3Server, check_artifact_store


@pytest.mark.parametrize("check", list(ARTIFACT_STORE_CHECKS))
def test_backend_passes_the_conformance_kit(
    artifact_store: FsspecArtifactStore, corrupt: Callable[[str], None], check: str
) -> None:
    assert check_artifact_store(artifact_store, corrupt=corrupt, checks=[check]) == [check]


def test_the_whole_kit_runs_in_one_call(
    artifact_store: FsspecArtifactStore, corrupt: Callable[[str], None]
) -> None:
    assert check_artifact_store(artifact_store, corrupt=corrupt) == list(ARTIFACT_STORE_CHECKS)


def test_the_kit_skips_the_corruption_check_without_a_way_to_corrupt(
    local_store: FsspecArtifactStore,
) -> None:
    ran = check_artifact_store(local_store, checks=["round_trip", "corruption_detected"])
    assert ran == ["round_trip"]


def test_corrupted_object_error_names_digest_and_location(
    artifact_store: FsspecArtifactStore, corrupt: Callable[[str], None]
) -> None:
    digest = artifact_store.put_bytes(b"model weights")
    corrupt(digest)

    with pytest.raises(ArtifactCorrupted) as caught:
        artifact_store.get_bytes(digest)

    assert f"sha256:{digest}" in caught.value.message
    assert artifact_store.url_for(digest) in caught.value.message
    assert caught.value.details["digest"] == digest
    assert caught.value.details["location"] == artifact_store.url_for(digest)


def test_truncated_object_is_corrupted(artifact_store: FsspecArtifactStore) -> None:
    digest = artifact_store.put_bytes(b"0123456789" * 1000)
    path = artifact_store.path_for(digest)
    artifact_store.fs.rm_file(path)
    artifact_store.fs.pipe_file(path, b"0123456789")

    with pytest.raises(ArtifactCorrupted):
        artifact_store.verify(digest)


def test_path_tricks_in_digests_are_refused(artifact_store: FsspecArtifactStore) -> None:
    with pytest.raises(InvalidInput, match="64 lowercase hex"):
        artifact_store.get_bytes("../../" + "a" * 58)


def test_put_stream_refuses_bytes(artifact_store: FsspecArtifactStore) -> None:
    with pytest.raises(InvalidInput, match="use put_bytes"):
        artifact_store.put_stream(b"data")  # type: ignore[arg-type]


def test_platform_opens_the_default_store_under_home(tmp_path: Path) -> None:
    from modelwright.core.platform import Platform

    platform = Platform(Settings(home=tmp_path / "home"))
    try:
        store = platform.artifacts
        assert isinstance(store, FsspecArtifactStore)
        digest = store.put_bytes(b"x")
        assert Path(store.path_for(digest)).is_relative_to(tmp_path / "home" / "artifacts")
    finally:
        platform.close()


@pytest.mark.s3
def test_platform_opens_an_s3_store_from_settings(
    tmp_path: Path, s3_server: LocalS3Server, s3_bucket: str
) -> None:
    from modelwright.core.platform import Platform

    settings = Settings(
        home=tmp_path / "home",
        artifact_url=f"s3://{s3_bucket}/team",
        artifact_options=s3_server.storage_options,
    )
    platform = Platform(settings)
    try:
        digest = platform.artifacts.put_bytes(b"x")
        assert platform.artifacts.url_for(digest).startswith(f"s3://{s3_bucket}/team/objects/")
    finally:
        platform.close()


def test_the_filesystem_root_is_refused() -> None:
    with pytest.raises(InvalidInput):
        open_artifact_store("/")
