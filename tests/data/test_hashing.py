"""Scanning, parallel hashing, the hash cache, and bulk puts into a local store."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from tests.data.conftest import World

from modelwright import InvalidInput
from modelwright.data._bulk import put_files
from modelwright.data.hashing import HashCache, LocalFile, hash_files, scan
from modelwright.store.artifacts import open_artifact_store

OLD = time.time_ns() - 3_600_000_000_000  # an hour ago: well outside the racy window


def _tree(root: Path, n: int, *, old: bool = True) -> dict[str, bytes]:
    files = {}
    for i in range(n):
        rel = f"d{i % 7}/sub{i % 3}/f{i}.bin"
        data = os.urandom(i * 37 % 5000)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if old:
            os.utime(path, ns=(OLD, OLD))
        files[rel] = data
    return files


def test_scan_lists_regular_files_sorted_and_follows_file_links(tmp_path: Path) -> None:
    files = _tree(tmp_path / "t", 20)
    (tmp_path / "t" / "link.bin").symlink_to(tmp_path / "t" / "d0" / "sub0" / "f0.bin")
    (tmp_path / "t" / "dirlink").symlink_to(tmp_path / "t" / "d1", target_is_directory=True)
    got = scan(tmp_path / "t")
    assert [f.rel for f in got] == sorted([*files, "link.bin"])
    assert all(Path(f.path).is_absolute() for f in got)
    single = scan(tmp_path / "t" / "d0" / "sub0" / "f0.bin")
    assert [(f.rel, f.size) for f in single] == [("f0.bin", 0)]
    with pytest.raises(InvalidInput, match="does not exist"):
        scan(tmp_path / "missing")


def test_parallel_hashes_match_hashlib(tmp_path: Path) -> None:
    files = _tree(tmp_path, 700)
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    scanned = scan(tmp_path)
    seen: list[int] = []
    digests = hash_files(scanned, workers=4, on_bytes=seen.append)
    expected = {**{k: hashlib.sha256(v).hexdigest() for k, v in files.items()}}
    expected["big.bin"] = hashlib.sha256(big.read_bytes()).hexdigest()
    assert dict(zip([f.rel for f in scanned], digests, strict=True)) == expected
    assert sum(seen) == sum(f.size for f in scanned)


def test_cache_keys_on_path_size_mtime_and_inode(tmp_path: Path) -> None:
    files = _tree(tmp_path / "t", 10)
    scanned = scan(tmp_path / "t")
    digests = hash_files(scanned)
    with HashCache(tmp_path / "cache.sqlite") as cache:
        cache.remember(zip(scanned, digests, strict=True))
        assert cache.lookup(scanned) == {f.path: d for f, d in zip(scanned, digests, strict=True)}
        # Touched (new mtime), rewritten (new size), replaced (new inode): all missed.
        first = Path(scanned[0].path)
        os.utime(first, ns=(OLD + 1, OLD + 1))
        second = Path(scanned[1].path)
        second.write_bytes(second.read_bytes() + b"x")
        third = Path(scanned[2].path)
        # Replaced by another file (a new inode: the old one is in use until the rename).
        fresh = third.with_name("fresh")
        fresh.write_bytes(files[scanned[2].rel])
        os.utime(fresh, ns=(OLD, OLD))
        fresh.replace(third)
        hits = cache.lookup(scan(tmp_path / "t"))
        assert set(hits) == {f.path for f in scanned[3:]}


def test_recently_modified_files_are_not_cached(tmp_path: Path) -> None:
    _tree(tmp_path / "t", 3, old=False)
    soon = time.time_ns() + 10**9  # "now" however slow the machine: within the racy window
    for f in (tmp_path / "t").rglob("*.bin"):
        os.utime(f, ns=(soon, soon))
    scanned = scan(tmp_path / "t")
    with HashCache(tmp_path / "cache.sqlite") as cache:
        cache.remember(zip(scanned, hash_files(scanned), strict=True))
        assert cache.lookup(scanned) == {}


def test_a_broken_cache_file_is_only_a_slower_cache(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"not a database" * 100)
    scanned = scan(_write_one(tmp_path / "x.bin"))
    with HashCache(path) as cache:
        cache.remember([(scanned[0], "0" * 64)])
        assert cache.lookup(scanned) == {}


def _write_one(path: Path) -> Path:
    path.write_bytes(b"abc")
    os.utime(path, ns=(OLD, OLD))
    return path


def test_bulk_put_stores_each_content_once_and_leaves_no_staging(tmp_path: Path) -> None:
    files = _tree(tmp_path / "t", 300)
    (tmp_path / "t" / "dup.bin").write_bytes(files["d1/sub1/f1.bin"])
    store = open_artifact_store(str(tmp_path / "store"))
    scanned = scan(tmp_path / "t")
    seen: list[int] = []
    digests = put_files(store, scanned, workers=4, on_bytes=seen.append)
    assert digests == [hashlib.sha256(Path(f.path).read_bytes()).hexdigest() for f in scanned]
    assert sum(seen) == sum(f.size for f in scanned)
    for d in set(digests):
        store.verify(d)
    assert len(World.objects(tmp_path / "store")) == len(set(digests))
    assert list((tmp_path / "store" / "tmp").iterdir()) == []
    # Again: the same objects, nothing new, nothing left over.
    assert put_files(store, scanned) == digests
    assert len(World.objects(tmp_path / "store")) == len(set(digests))
    assert list((tmp_path / "store" / "tmp").iterdir()) == []


def test_bulk_put_cleans_up_when_a_file_vanishes(tmp_path: Path) -> None:
    _tree(tmp_path / "t", 50)
    scanned = scan(tmp_path / "t")
    Path(scanned[10].path).unlink()
    store = open_artifact_store(str(tmp_path / "store"))
    with pytest.raises(FileNotFoundError):
        put_files(store, scanned, workers=2)
    assert World.objects(tmp_path / "store") == []
    assert list((tmp_path / "store" / "tmp").iterdir()) == []


def test_bulk_put_on_other_filesystems_uses_put_file(tmp_path: Path) -> None:
    files = _tree(tmp_path / "t", 20)
    store = open_artifact_store(f"memory://mw-bulk-{os.getpid()}-{time.time_ns()}")
    scanned = scan(tmp_path / "t")
    digests = put_files(store, scanned)
    assert [store.get_bytes(d) for d in digests] == [files[f.rel] for f in scanned]


def test_put_files_of_nothing(tmp_path: Path) -> None:
    assert put_files(open_artifact_store(str(tmp_path / "s")), []) == []
    assert LocalFile.of("/x", "x", os.stat(tmp_path)).rel == "x"


# -- through the client -------------------------------------------------------------------------
class Events:
    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        self.totals[phase] = total
        self.done[phase] = done

    def read(self, backend: str) -> int:
        """Bytes read to hash: a separate phase over HTTP, while copying when embedded."""
        return self.totals.get("hash" if backend == "http" else "store", 0)


def test_reregistering_an_unchanged_directory_hashes_nothing(
    world: World, tmp_path: Path, backend: str
) -> None:
    c = world.client
    files = _tree(tmp_path / "t", 120)
    total = sum(map(len, files.values()))
    first = Events()
    v1 = c.register_dataset(
        "t", tmp_path / "t", workspace="demo", environment="dev", progress=first
    )
    assert first.read(backend) == total
    assert first.totals["store"] == total
    assert first.done["store"] == total

    again = Events()
    v = c.register_dataset("t", tmp_path / "t", workspace="demo", environment="dev", progress=again)
    assert (v.version, v.created) == (1, False)
    assert again.read(backend) == 0
    assert again.totals["store"] == 0

    changed = tmp_path / "t" / "d0" / "sub0" / "f0.bin"
    changed.write_bytes(b"new content")
    os.utime(changed, ns=(OLD + 5, OLD + 5))
    third = Events()
    v2 = c.register_dataset(
        "t", tmp_path / "t", workspace="demo", environment="dev", progress=third
    )
    assert (v2.version, v2.created) == (2, True)
    assert third.read(backend) == len(b"new content")
    assert v2.digest != v1.digest


def test_a_known_file_missing_from_the_datastore_is_stored(
    world: World, tmp_path: Path, backend: str
) -> None:
    """The cache says what a file hashes to, not that a datastore has it."""
    c = world.client
    src = _write_one(tmp_path / "x.bin")
    c.register_dataset("x", src, workspace="demo", environment="dev")
    c.create_datastore("demo", "staging", "other", str(tmp_path / "other"))
    events = Events()
    v = c.register_dataset("x", src, workspace="demo", environment="staging", progress=events)
    assert events.totals["store"] == 3
    assert len(World.objects(tmp_path / "other")) == 1
    assert (
        c.load_dataset("x", workspace="demo", environment="staging", as_="path").read_bytes()
        == b"abc"
    )  # type: ignore[union-attr]
    assert v.environment == "staging"
