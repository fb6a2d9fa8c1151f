"""Garbage collection over the artifact store and the datastores, through both backends on
both databases: every live object stays readable, the rest is freed and counted."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import insert, update
from sqlalchemy.orm import Session
from tests.conftest import Connector
from tests.registry.conftest import Doubler

from modelwright.client import Client
from modelwright.core.clock import utcnow
from modelwright.data.manifest import load_manifest, objects_of
from modelwright.errors import PermissionDenied
from modelwright.store import schema
from modelwright.store.artifacts import open_artifact_store

Unchanged = Callable[[], AbstractContextManager[None]]
WHERE = {"workspace": "ml", "environment": "dev"}


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Hash cache and downloads of this test alone (never the user's ~/.cache)."""
    path = tmp_path / "client-cache"
    monkeypatch.setenv("MODELWRIGHT_CACHE_DIR", str(path))
    return path


def _objects(root: Path) -> dict[str, int]:
    """Digest → size of every object of a local store."""
    base = root / "objects" / "sha256"
    return {p.parent.name + p.name: p.stat().st_size for p in base.rglob("*") if p.is_file()}


def _age(root: Path, hours: float = 2) -> None:
    """As if every object of the store had been written ``hours`` ago."""
    then = time.time() - hours * 3600
    for p in (root / "objects").rglob("*"):
        if p.is_file():
            os.utime(p, (then, then))


def _frame(n: int, offset: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"tenure": [float(i + offset) for i in range(n)], "calls": list(range(n))})


def _tree(root: Path, tag: str, files: int) -> Path:
    for i in range(files):
        (root / f"f{i:03d}.txt").parent.mkdir(parents=True, exist_ok=True)
        (root / f"f{i:03d}.txt").write_text(f"{tag} file {i}\n")
    return root


def test_gc_keeps_every_live_object_readable_and_frees_the_rest(
    connector: Connector, client: Client, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    client.create_workspace("ml")
    client.create_datastore("ml", "dev", "lake", str(lake))
    artifacts = Path(connector.platform.settings.home) / "artifacts"

    # Live: a run's artifact, a deleted (restorable) run's, a model version, datasets.
    (tmp_path / "a.txt").write_text("kept run")
    (tmp_path / "b.txt").write_text("soft-deleted run")
    (tmp_path / "c.txt").write_text("permanently deleted run")
    with client.start_run("x", workspace="ml") as kept:
        kept.log_artifact(tmp_path / "a.txt")
        kept.log_model(Doubler(), "churn", input_example=_frame(3))
        kept.log_model(Doubler(), "churn", input_example=_frame(4, offset=100))
    with client.start_run("x", workspace="ml") as soft:
        soft.log_artifact(tmp_path / "b.txt")
    with client.start_run("x", workspace="ml") as gone:
        gone.log_artifact(tmp_path / "c.txt")
    client.register_dataset("customers", _frame(10), **WHERE)
    client.register_dataset("customers", _frame(20), **WHERE)
    client.register_dataset("images", _tree(tmp_path / "t1", "one", 30), **WHERE)
    client.register_dataset("images", _tree(tmp_path / "t2", "two", 30), **WHERE)

    v2 = client.get_model_version("models:/churn/2", workspace="ml")
    customers2 = client.get_dataset_version("customers@v2", **WHERE)
    images2 = client.get_dataset_version("images@v2", **WHERE)
    lake_store = open_artifact_store(str(lake))
    images = {
        v: load_manifest(
            lake_store.get_bytes(client.get_dataset_version(f"images@v{v}", **WHERE).digest)
        )
        for v in (1, 2)
    }
    if connector.kind == "local":  # stored as packs (an HTTP upload sends objects one by one)
        assert all(e.pack is not None for entries in images.values() for e in entries)
    before_artifacts, before_lake = _objects(artifacts), _objects(lake)

    # Made unreachable: a run removed for good, a model version, two dataset versions.
    client.delete_run(soft.id)
    client.delete_run(gone.id)
    with connector.platform.engine.begin() as conn:
        conn.execute(
            update(schema.Run)
            .where(schema.Run.id == gone.id)
            .values(deleted_at=utcnow() - timedelta(days=31))
        )
    client.delete_run(gone.id, permanent=True)
    client.delete_model_version("churn", 2, workspace="ml")
    client.delete_dataset_version("customers@v2", **WHERE)
    client.delete_dataset_version("images@v2", **WHERE)
    _age(artifacts)
    _age(lake)
    # An upload whose record is not committed yet: young, so never collected.
    in_flight = open_artifact_store(str(artifacts)).put_bytes(b"being registered right now")

    dry = client.collect_garbage(dry_run=True)
    assert dry.dry_run and dry.objects_freed > 0
    assert _objects(artifacts).keys() == before_artifacts.keys() | {in_flight}
    assert _objects(lake) == before_lake  # a dry run deletes nothing

    report = client.collect_garbage()
    assert not report.dry_run
    assert (report.objects_freed, report.bytes_freed) == (dry.objects_freed, dry.bytes_freed)
    after_artifacts, after_lake = _objects(artifacts), _objects(lake)
    freed = {**before_artifacts, **before_lake}.keys() - (
        after_artifacts.keys() | after_lake.keys()
    )
    assert len(freed) == report.objects_freed
    assert report.bytes_freed == sum({**before_artifacts, **before_lake}[d] for d in freed)
    by_store = {s.store: s for s in report.stores}
    assert "datastore ml/dev/lake" in by_store and not any(s.error for s in report.stores)
    assert by_store["artifact store"].recent == 1 and in_flight in after_artifacts

    # What is gone: the removed run's artifact, v2's own files, the deleted versions' bytes.
    assert hashlib.sha256(b"permanently deleted run").hexdigest() in freed
    v1 = client.get_model_version("models:/churn/1", workspace="ml")
    v1_files = {f.digest for f in v1.files} | {v1.digest}
    assert v2.digest in freed
    assert {f.digest for f in v2.files} - v1_files <= freed
    assert customers2.digest in freed and images2.digest in freed
    assert set(objects_of(images[2])) <= freed  # the deleted version's packs
    assert freed.isdisjoint(objects_of(images[1]))
    assert freed.isdisjoint(after_artifacts.keys() | after_lake.keys())

    # What stays, read back through the platform: artifacts of live and deleted runs,
    # the model version, the datasets (a DataFrame and a packed directory).
    out = client.download_artifacts(kept.id, "a.txt", tmp_path / "out-a")
    assert out.read_text() == "kept run"
    client.restore_run(soft.id)
    out = client.download_artifacts(soft.id, "b.txt", tmp_path / "out-b")
    assert out.read_text() == "soft-deleted run"
    model = client.load_model("models:/churn/1", workspace="ml")
    assert list(model.predict(_frame(2))) == [0.0, 2.0]
    frame = client.load_dataset("customers@v1", **WHERE)
    assert isinstance(frame, pd.DataFrame) and list(frame["tenure"]) == list(_frame(10)["tenure"])
    tree = client.load_dataset("images@v1", **WHERE)
    assert isinstance(tree, Path)
    assert (tree / "f007.txt").read_text() == "one file 7\n"
    assert len(list(tree.iterdir())) == 30

    # A second collection finds nothing more; it audits only what deleted something.
    again = client.collect_garbage()
    assert again.objects_freed == 0
    events = client.audit_events(action="gc.collect")
    assert len(events) == 1
    assert events[0].after is not None
    assert events[0].after["bytes_freed"] == report.bytes_freed


def test_only_a_platform_admin_collects_garbage(
    connector: Connector, client: Client, unchanged: Unchanged
) -> None:
    client.create_workspace("ml")
    client.create_principal("vera")
    client.create_principal("ann")
    client.grant("vera", "viewer", "ml")
    client.grant("ann", "admin", "ml")  # every action, but in one workspace only
    for name in ("vera", "ann"):
        who = connector.as_principal(name)
        with unchanged(), pytest.raises(PermissionDenied, match="may not collect garbage"):
            who.collect_garbage(dry_run=True)


@pytest.mark.parametrize("backend", ["local"])
@pytest.mark.parametrize("db", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_an_old_object_named_again_while_collecting_is_kept(
    connector: Connector, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A registration that names an old, unnamed object (its bytes were already stored, so
    nothing was uploaded) and commits after the first marks: the second marks, taken just
    before deleting, see it. (On SQLite a collection holds the write lock: no registration
    commits meanwhile.)"""
    from modelwright.gc import service

    client.create_workspace("ml")
    run = client.start_run("x", workspace="ml")
    artifacts = Path(connector.platform.settings.home) / "artifacts"
    orphan = open_artifact_store(str(artifacts)).put_bytes(b"stored long ago")
    _age(artifacts)
    first = service.artifact_marks
    calls: list[int] = []

    def registering_meanwhile(session: Session, cutoff: float) -> set[str]:
        marks = first(session, cutoff)
        if not calls:  # a registration commits between the first marks and the sweep
            with connector.platform.engine.begin() as conn:
                conn.execute(
                    insert(schema.RunArtifact).values(
                        run_id=run.id, path="late.txt", digest=orphan, size=15
                    )
                )
        calls.append(1)
        return marks

    monkeypatch.setattr(service, "artifact_marks", registering_meanwhile)
    report = client.collect_garbage()
    assert len(calls) == 2 and report.objects_freed == 0
    out = client.download_artifacts(run.id, "late.txt", artifacts.parent / "out")
    assert out.read_bytes() == b"stored long ago"
