"""Artifact stores of other packages are found by URL scheme through an entry point group."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.local import LocalFileSystem

import modelwright.plugins as _plugins
from modelwright.store import artifacts
from modelwright.store.artifacts import (
    ArtifactStore,
    FsspecArtifactStore,
    open_artifact_store,
    register_artifact_store,
)
from modelwright.testing import check_artifact_store


class VaultStore(FsspecArtifactStore):
    """A third-party store: objects in a local directory named by a ``vault://`` URL."""


class VaultStores:
    """Its factory, shipped under the entry point group as ``vault = tests...:VaultStores``."""

    name = "vault"

    def open(self, url: str, **options: Any) -> ArtifactStore:
        return VaultStore(LocalFileSystem(), url.removeprefix("vault://"))


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = artifacts.ARTIFACT_STORES
    monkeypatch.setattr(registry, "items", dict(registry.items))
    monkeypatch.setattr(registry, "loaded", False)


def test_a_store_of_another_package_opens_its_urls_through_its_entry_point(
    fresh_registry: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    group = artifacts.ENTRY_POINT_GROUP
    points = [
        EntryPoint("vault", f"{__name__}:VaultStores", group),
        EntryPoint("broken", "tests.store.nowhere:Stores", group),
    ]
    monkeypatch.setattr(_plugins, "entry_points", lambda group: points)

    store = open_artifact_store(f"vault://{tmp_path / 'vault'}")

    assert isinstance(store, VaultStore)
    assert check_artifact_store(store, checks=["round_trip", "local_path"]) == [
        "round_trip",
        "local_path",
    ]
    assert "artifact store entry point 'broken' could not be registered" in caplog.text
    # Plain paths and schemes no plug-in claims stay with the built-in fsspec store.
    assert type(open_artifact_store(str(tmp_path / "plain"))) is FsspecArtifactStore
    assert type(open_artifact_store(f"file://{tmp_path / 'file'}")) is FsspecArtifactStore


def test_a_registered_scheme_is_not_taken_twice(fresh_registry: None, tmp_path: Path) -> None:
    register_artifact_store(VaultStores())
    assert isinstance(open_artifact_store(f"vault://{tmp_path}"), VaultStore)
    with pytest.raises(ValueError, match="already registered"):
        register_artifact_store(VaultStores())
    with pytest.raises(TypeError, match="ArtifactStoreFactory protocol"):
        register_artifact_store(object())  # type: ignore[arg-type]
