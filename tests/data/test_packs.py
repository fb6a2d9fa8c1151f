"""Small files of a directory stored in pack objects; a few big files flushed one by one."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from tests.data.conftest import World

from modelwright import ArtifactCorrupted, InvalidInput
from modelwright.api import data as ops
from modelwright.data import _bulk, _packs
from modelwright.data._bulk import put_files
from modelwright.data._packs import pack_files, unpack
from modelwright.data.hashing import scan
from modelwright.data.manifest import ManifestEntry, dump_manifest, load_manifest
from modelwright.objects.models import ObjectScope
from modelwright.store.artifacts import open_artifact_store

OLD = time.time_ns() - 3_600_000_000_000


def _tree(root: Path, n: int) -> dict[str, bytes]:
    files = {}
    for i in range(n):
        rel = f"d{i % 5}/f{i}.bin"
        data = os.urandom(i * 53 % 3000) if i % 10 else b"same bytes"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, ns=(OLD, OLD))
        files[rel] = data
    return files


def _packed(store_root: Path, digest: str) -> list[ManifestEntry]:
    path = store_root / "objects" / "sha256" / digest[:2] / digest[2:]
    return load_manifest(path.read_bytes())


def test_packs_hold_each_content_once_and_every_file_reads_back(tmp_path: Path) -> None:
    files = _tree(tmp_path / "t", 200)
    store = open_artifact_store(str(tmp_path / "store"))
    scanned = scan(tmp_path / "t")
    seen: list[int] = []
    placed = pack_files(store, scanned, on_bytes=seen.append)
    assert sum(seen) == sum(map(len, files.values()))
    assert [p.digest for p in placed] == [hashlib.sha256(files[f.rel]).hexdigest() for f in scanned]
    packs = {p.pack for p in placed}
    assert None not in packs
    distinct = {p.digest: p.size for p in placed}
    # Each distinct content once, in packs that are ordinary verified objects.
    assert sum(store.size(pack) for pack in packs if pack) == sum(distinct.values())
    for pack in packs:
        store.verify(str(pack))
    assert list((tmp_path / "store" / "tmp").iterdir()) == []
    entries = [
        ManifestEntry(f.rel, p.digest, p.size, p.pack, p.offset)
        for f, p in zip(scanned, placed, strict=True)
    ]
    for pack in packs:
        with store.open(str(pack)) as f:
            for e, data in unpack(f, str(pack), [e for e in entries if e.pack == pack]):
                assert data == files[e.path]
    # Again: everything is found where it is, nothing is written.
    again = pack_files(store, scanned, placed={p.digest: (p.pack, p.offset) for p in placed})
    assert again == placed
    assert len(World.objects(tmp_path / "store")) == len(packs)


def test_a_pack_is_not_made_of_contents_the_store_has(tmp_path: Path) -> None:
    _tree(tmp_path / "t", 30)
    store = open_artifact_store(str(tmp_path / "store"))
    scanned = scan(tmp_path / "t")
    alone = store.put_file(scanned[3].path)
    placed = pack_files(store, scanned, exists=lambda d: d == alone)
    assert (placed[3].pack, placed[3].digest) == (None, alone)


def test_packing_cleans_up_when_a_file_vanishes(tmp_path: Path) -> None:
    _tree(tmp_path / "t", 60)
    scanned = scan(tmp_path / "t")
    Path(scanned[40].path).unlink()
    store = open_artifact_store(str(tmp_path / "store"))
    with pytest.raises(FileNotFoundError):
        pack_files(store, scanned)
    assert World.objects(tmp_path / "store") == []
    assert list((tmp_path / "store" / "tmp").iterdir()) == []


def test_packing_into_other_filesystems_uploads_each_pack(tmp_path: Path) -> None:
    files = _tree(tmp_path / "t", 40)
    store = open_artifact_store(f"memory://mw-packs-{os.getpid()}-{time.time_ns()}")
    scanned = scan(tmp_path / "t")
    placed = pack_files(store, scanned, workers=2)
    for f, p in zip(scanned, placed, strict=True):
        e = ManifestEntry(f.rel, p.digest, p.size, p.pack, p.offset)
        assert _packs.read_entry(store, e) == files[f.rel]


def test_a_corrupted_pack_fails_the_files_it_holds(tmp_path: Path) -> None:
    _tree(tmp_path / "t", 20)
    store = open_artifact_store(str(tmp_path / "store"))
    scanned = scan(tmp_path / "t")
    p = pack_files(store, scanned)[5]
    assert p.pack is not None and p.size > 0
    path = Path(store.path_for(p.pack))
    data = bytearray(path.read_bytes())
    data[p.offset] ^= 0xFF
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactCorrupted):
        _packs.read_entry(store, ManifestEntry("x", p.digest, p.size, p.pack, p.offset))


def test_a_few_big_files_are_flushed_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_bulk, "_syncfs", lambda: pytest.fail("syncfs for one file"))
    big = tmp_path / "big.bin"
    data = os.urandom(3_333_333)
    big.write_bytes(data)
    store = open_artifact_store(str(tmp_path / "store"))
    seen: list[int] = []
    [digest] = put_files(store, scan(big), on_bytes=seen.append)
    assert digest == hashlib.sha256(data).hexdigest()
    assert sum(seen) == len(data)
    assert store.get_bytes(digest) == data
    assert list((tmp_path / "store" / "tmp").iterdir()) == []


# -- manifests ----------------------------------------------------------------------------------
def test_manifests_without_packs_keep_the_first_format() -> None:
    plain = [ManifestEntry("a", "1" * 64, 3), ManifestEntry("b", "2" * 64, 4)]
    assert b'"kind":"modelwright.manifest/1"' in dump_manifest(plain)
    assert b'"pack"' not in dump_manifest(plain)
    packed = [ManifestEntry("a", "1" * 64, 3, "3" * 64, 0), ManifestEntry("b", "2" * 64, 4)]
    data = dump_manifest(packed)
    assert b'"kind":"modelwright.manifest/2"' in data
    assert load_manifest(data) == packed
    # A manifest written before packs existed still loads.
    old = (
        b'{"files":[{"digest":"'
        + b"1" * 64
        + b'","path":"a","size":3}],"kind":"modelwright.manifest/1"}'
    )
    assert load_manifest(old) == [ManifestEntry("a", "1" * 64, 3)]


@pytest.mark.parametrize(
    "entry",
    [
        ManifestEntry("a", "1" * 64, 3, "x" * 64, 0),
        ManifestEntry("a", "1" * 64, 3, "3" * 63, 0),
        ManifestEntry("a", "1" * 64, 3, "3" * 64, -1),
        ManifestEntry("a", "1" * 65, 3),
        ManifestEntry("a", "1" * 64, -3),
    ],
)
def test_bad_pack_entries_are_refused(entry: ManifestEntry) -> None:
    with pytest.raises(InvalidInput, match="bad digest, pack, size or offset"):
        load_manifest(dump_manifest([ManifestEntry("b", "2" * 64, 1, "3" * 64, 0), entry]))


# -- through the client -------------------------------------------------------------------------
def test_a_directory_of_small_files_round_trips_through_packs(
    world: World, tmp_path: Path, backend: str
) -> None:
    c = world.client
    files = _tree(tmp_path / "t", 150)
    (tmp_path / "t" / "big.bin").write_bytes(big := os.urandom(_packs.PACK_FILE_MAX + 1))
    files["big.bin"] = big
    v = c.register_dataset("t", tmp_path / "t", workspace="demo", environment="dev")
    entries = _packed(world.lake, v.digest)
    by_path = {e.path: e for e in entries}
    assert by_path["big.bin"].pack is None
    if backend == "local":
        assert all(e.pack is not None for e in entries if e.path != "big.bin")
    path = c.load_dataset("t", workspace="demo", environment="dev")
    assert isinstance(path, Path)
    got = {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    assert got == files

    # A new file and one changed: the others are pointed at where they are, not stored again.
    (tmp_path / "t" / "d0" / "new.bin").write_bytes(b"a new file")
    changed = tmp_path / "t" / "d1" / "f1.bin"
    changed.write_bytes(b"changed")
    os.utime(changed, ns=(OLD + 7, OLD + 7))
    before = {p: p.stat().st_size for p in World.objects(world.lake)}
    v2 = c.register_dataset("t", tmp_path / "t", workspace="demo", environment="dev")
    assert (v2.version, v2.created) == (2, True)
    added = [p for p in World.objects(world.lake) if p not in before]
    manifest = World.object(world.lake, v2.digest)
    assert sum(p.stat().st_size for p in added if p != manifest) == len(b"a new file") + len(
        b"changed"
    )
    unchanged = {e.path: e for e in _packed(world.lake, v2.digest)}
    assert unchanged["d2/f2.bin"] == by_path["d2/f2.bin"]


def test_a_packed_file_changed_in_the_datastore_fails_the_load(
    world: World, tmp_path: Path, backend: str
) -> None:
    if backend != "local":
        pytest.skip("packs are made by the embedded backend (over HTTP files go up one by one)")
    c = world.client
    _tree(tmp_path / "t", 30)
    v = c.register_dataset("t", tmp_path / "t", workspace="demo", environment="dev")
    e = next(e for e in _packed(world.lake, v.digest) if e.pack and e.size)
    assert e.pack is not None
    pack = World.object(world.lake, e.pack)
    data = bytearray(pack.read_bytes())
    data[e.offset] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    with pytest.raises(ArtifactCorrupted):
        c.load_dataset("t", workspace="demo", environment="dev")
    assert not (tmp_path / "client-cache" / "datasets" / v.digest / "t").exists()


def test_a_manifest_pointing_outside_its_pack_is_refused(
    world: World, tmp_path: Path, backend: str
) -> None:
    if backend != "local":
        pytest.skip("packs are made by the embedded backend (over HTTP files go up one by one)")
    c = world.client
    _tree(tmp_path / "t", 10)
    v = c.register_dataset("t", tmp_path / "t", workspace="demo", environment="dev")
    entries = _packed(world.lake, v.digest)
    e = next(e for e in entries if e.pack)
    lying = [x if x != e else x._replace(offset=10**9) for x in entries]
    digest = c.transport.put_object(
        ObjectScope.in_datastore("demo", "dev", "lake"), dump_manifest(lying)
    )
    with pytest.raises(InvalidInput, match="past the end of pack"):
        c.call(
            ops.REGISTER_DATASET,
            workspace="demo",
            environment="dev",
            name="t",
            datastore="lake",
            kind="directory",
            format="binary",
            digest=digest,
            description="",
            run_id=None,
        )
