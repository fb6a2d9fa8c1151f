"""A warm download cache never serves bytes other than the ones it verified."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import Connector
from tests.data.conftest import World

from modelwright import ArtifactCorrupted
from modelwright.client import _cache

FRAME = pd.DataFrame({"id": np.arange(5_000), "x": np.linspace(0, 1, 5_000)})


def _flip(path: Path, at: int = 4_000) -> None:
    """One byte changed in place, the size kept (as rot or a stray write would)."""
    os.chmod(path, 0o644)
    with path.open("r+b") as f:
        f.seek(at)
        byte = f.read(1)
        f.seek(at)
        f.write(bytes([byte[0] ^ 0xFF]))


def _cached(cache_dir: Path, digest: str) -> Path:
    (path,) = [p for p in (cache_dir / "datasets" / digest).iterdir() if p.suffix == ".parquet"]
    return path


def test_a_warm_hit_costs_no_hash(
    world: World, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = world.client
    c.register_dataset("t", FRAME, workspace="demo", environment="dev")
    assert c.load_dataset("t@v1", workspace="demo", environment="dev").equals(FRAME)
    hashed: list[Path] = []
    real = _cache.sha256_of
    monkeypatch.setattr(_cache, "sha256_of", lambda p: hashed.append(p) or real(p))
    for _ in range(3):
        assert c.load_dataset("t@v1", workspace="demo", environment="dev").equals(FRAME)
    assert hashed == []


@pytest.mark.parametrize("backend", ["local"])
def test_a_byte_rotted_in_the_store_is_refused_under_a_warm_cache(
    world: World, cache_dir: Path
) -> None:
    """Embedded, the cache entry is a hard link to the stored object: the object rotting
    changes what the cache holds, and the next read must notice."""
    c = world.client
    v = c.register_dataset("t", FRAME, workspace="demo", environment="dev")
    assert c.load_dataset("t@v1", workspace="demo", environment="dev").equals(FRAME)
    _flip(World.object(world.lake, v.digest))
    with pytest.raises(ArtifactCorrupted):
        c.load_dataset("t@v1", workspace="demo", environment="dev")
    with pytest.raises(ArtifactCorrupted):
        c.load_dataset("t@v1", workspace="demo", environment="dev", as_="path")


def test_a_corrupted_cached_copy_is_fetched_again(
    world: World, cache_dir: Path, connector: Connector
) -> None:
    c = world.client
    v = c.register_dataset("t", FRAME, workspace="demo", environment="dev")
    c.load_dataset("t@v1", workspace="demo", environment="dev")
    cached = _cached(cache_dir, v.digest)
    if connector.kind == "local":
        # Embedded, the entry is the stored object itself: replace it by a rotten copy.
        data = bytearray(cached.read_bytes())
        cached.unlink()
        data[4_000] ^= 0xFF
        cached.write_bytes(bytes(data))
    else:
        _flip(cached)
    assert c.load_dataset("t@v1", workspace="demo", environment="dev").equals(FRAME)


def test_a_directory_under_a_warm_cache_is_checked_file_by_file(
    world: World, cache_dir: Path, tmp_path: Path
) -> None:
    c = world.client
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.bin").write_bytes(os.urandom(3_000_000))  # big enough to be its own object
    (tree / "sub" / "b.txt").write_text("small files go into packs")
    v = c.register_dataset("tree", tree, workspace="demo", environment="dev")
    first = c.load_dataset("tree@v1", workspace="demo", environment="dev")
    assert isinstance(first, Path)
    small = first / "sub" / "b.txt"
    os.chmod(small, 0o644)
    small.write_text("small files go into pack$")  # same size, other bytes
    again = c.load_dataset("tree@v1", workspace="demo", environment="dev")
    assert isinstance(again, Path)
    assert (again / "sub" / "b.txt").read_text() == "small files go into packs"
    assert (again / "a.bin").read_bytes() == (tree / "a.bin").read_bytes()
    assert v.files == 2
