"""A workspace with a non-production datastore in dev and a production one in prod."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from modelwright.client import Client


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hash cache and downloads of this test alone (never the user's ~/.cache)."""
    path = tmp_path / "client-cache"
    monkeypatch.setenv("MODELWRIGHT_CACHE_DIR", str(path))
    for var in ("MODELWRIGHT_WORKSPACE", "MODELWRIGHT_ENVIRONMENT"):
        monkeypatch.delenv(var, raising=False)
    return path


@dataclass
class World:
    client: Client
    lake: Path  # demo/dev/lake, non-production
    vault: Path  # demo/prod/vault, production

    @staticmethod
    def objects(root: Path) -> list[Path]:
        return sorted(p for p in (root / "objects").rglob("*") if p.is_file())

    @staticmethod
    def object(root: Path, digest: str) -> Path:
        return root / "objects" / "sha256" / digest[:2] / digest[2:]


@pytest.fixture
def world(client: Client, tmp_path: Path) -> World:
    client.create_workspace("demo")
    lake, vault = tmp_path / "lake", tmp_path / "vault"
    client.create_datastore("demo", "dev", "lake", str(lake))
    client.create_datastore("demo", "prod", "vault", str(vault), classification="production")
    return World(client, lake, vault)
