"""Versioned datasets through the client, on both backends and both databases."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import Connector
from tests.data.conftest import World

import modelwright
from modelwright import InvalidInput, NotFound, PermissionDenied

Unchanged = Callable[[], AbstractContextManager[None]]


def _frame(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "income": rng.normal(50_000, 12_000, n).round(2),
            "city": rng.choice(["paris", "lyon", "nice"], n),
            "churned": rng.random(n) < 0.3,
        }
    )


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# -- DataFrames ---------------------------------------------------------------------------------
def test_dataframe_round_trip_with_schema_and_profile(world: World) -> None:
    c = world.client
    df = _frame()
    v = c.register_dataset("churn", df, workspace="demo", environment="dev", description="d")
    assert (v.ref, v.version, v.created, v.kind, v.format) == (
        "churn@v1",
        1,
        True,
        "dataframe",
        "parquet",
    )
    assert (v.workspace, v.environment, v.datastore, v.classification) == (
        "demo",
        "dev",
        "lake",
        "non-production",
    )
    assert v.files == 1
    assert v.size == len(World.objects(world.lake)[0].read_bytes())
    assert [(col.name, col.type) for col in v.columns or []] == [
        ("age", "int64"),
        ("income", "double"),
        ("city", "string"),
        ("churned", "bool"),
    ]
    assert v.profile is not None
    assert v.profile.rows == 50
    assert v.profile.columns["age"].mean == pytest.approx(df["age"].mean())
    assert v.profile.columns["city"].value_counts == df["city"].value_counts().to_dict()
    assert v.rows == 50
    assert v.created_by == "admin"

    back = c.load_dataset("churn@v1", workspace="demo", environment="dev")
    assert isinstance(back, pd.DataFrame)
    pd.testing.assert_frame_equal(back, df)
    assert c.get_dataset_version("churn", workspace="demo", environment="dev") == v.model_copy(
        update={"created": False}
    )


def test_same_content_again_is_the_latest_version_and_stored_once(world: World) -> None:
    c = world.client
    df = _frame()
    first = c.register_dataset("churn", df, workspace="demo", environment="dev")
    again = c.register_dataset("churn", df.copy(), workspace="demo", environment="dev")
    assert (again.version, again.digest, again.created) == (1, first.digest, False)
    assert len(World.objects(world.lake)) == 1

    changed = c.register_dataset("churn", _frame(seed=1), workspace="demo", environment="dev")
    assert (changed.version, changed.created) == (2, True)
    # Back to the first content: a new version (the latest changes), still one object for it.
    back = c.register_dataset("churn", df, workspace="demo", environment="dev")
    assert (back.version, back.digest) == (3, first.digest)
    assert len(World.objects(world.lake)) == 2

    history = c.dataset_versions("churn", workspace="demo", environment="dev")
    assert [(h.version, h.digest) for h in history] == [
        (1, first.digest),
        (2, changed.digest),
        (3, first.digest),
    ]
    for ref, version in (("churn@v2", 2), ("churn@2", 2), ("churn@latest", 3), ("churn", 3)):
        got = c.get_dataset_version(ref, workspace="demo", environment="dev")
        assert got.version == version, ref


def test_identical_bytes_in_two_datasets_are_stored_once(world: World, tmp_path: Path) -> None:
    c = world.client
    data = os.urandom(5000)
    a = _write(tmp_path / "a" / "x.bin", data)
    b = _write(tmp_path / "b" / "y.bin", data)
    va = c.register_dataset("one", a, workspace="demo", environment="dev")
    vb = c.register_dataset("two", b, workspace="demo", environment="dev")
    assert va.digest == vb.digest == hashlib.sha256(data).hexdigest()
    assert len(World.objects(world.lake)) == 1


# -- files and directories ----------------------------------------------------------------------
def test_csv_and_parquet_files_are_profiled_and_load_as_frames(
    world: World, tmp_path: Path
) -> None:
    c = world.client
    df = _frame()
    csv = tmp_path / "churn.csv"
    df.to_csv(csv, index=False)
    parquet = tmp_path / "churn.parquet"
    df.to_parquet(parquet, index=False)
    vc = c.register_dataset("csv", csv, workspace="demo", environment="dev")
    vp = c.register_dataset("pq", parquet, workspace="demo", environment="dev")
    assert (vc.kind, vc.format, vp.format) == ("file", "csv", "parquet")
    assert vc.digest == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert vc.size == csv.stat().st_size
    assert vc.profile is not None and vp.profile is not None
    assert vc.profile.columns["income"] == vp.profile.columns["income"]

    frame = c.load_dataset("csv", workspace="demo", environment="dev")
    assert isinstance(frame, pd.DataFrame)
    pd.testing.assert_frame_equal(frame, df, check_dtype=False)
    path = c.load_dataset("csv@v1", workspace="demo", environment="dev", as_="path")
    assert isinstance(path, Path)
    assert path.name == "csv.csv"
    assert path.read_bytes() == csv.read_bytes()


def test_binary_file_has_no_schema_and_loads_as_a_verified_path(
    world: World, tmp_path: Path
) -> None:
    c = world.client
    src = _write(tmp_path / "weights.npy", os.urandom(70_000))
    v = c.register_dataset("weights", src, workspace="demo", environment="dev")
    assert (v.kind, v.format, v.columns, v.profile, v.rows) == ("file", "npy", None, None, None)
    path = c.load_dataset("weights", workspace="demo", environment="dev")
    assert isinstance(path, Path)
    assert path.read_bytes() == src.read_bytes()
    with pytest.raises(InvalidInput, match="not a table"):
        c.load_dataset("weights", workspace="demo", environment="dev", as_="dataframe")


def test_directory_round_trip_keeps_the_tree(world: World, tmp_path: Path) -> None:
    c = world.client
    root = tmp_path / "images"
    same = os.urandom(300)
    files = {
        "a.png": os.urandom(1000),
        "sub/b.png": os.urandom(2000),
        "sub/deeper/c.txt": b"",
        "copy1.bin": same,
        "sub/copy2.bin": same,
    }
    for rel, data in files.items():
        _write(root / rel, data)
    v = c.register_dataset("images", root, workspace="demo", environment="dev")
    assert (v.kind, v.format, v.files, v.size) == (
        "directory",
        "mixed",
        5,
        sum(map(len, files.values())),
    )
    # The duplicate is stored once: the objects hold the four distinct contents (on their
    # own, or packed together when embedded) and the manifest, nothing more.
    manifest = World.object(world.lake, v.digest)
    stored = [p for p in World.objects(world.lake) if p != manifest]
    assert sum(p.stat().st_size for p in stored) == 1000 + 2000 + 0 + 300
    again = c.register_dataset("images", root, workspace="demo", environment="dev")
    assert (again.version, again.created) == (1, False)

    path = c.load_dataset("images", workspace="demo", environment="dev")
    assert isinstance(path, Path) and path.name == "images"
    got = {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}
    assert got == files


def test_directory_of_csv_files_is_one_table(world: World, tmp_path: Path) -> None:
    c = world.client
    df = _frame(60)
    (tmp_path / "parts").mkdir()
    for i in range(3):
        df.iloc[i * 20 : (i + 1) * 20].to_csv(tmp_path / "parts" / f"part-{i}.csv", index=False)
    v = c.register_dataset("parts", tmp_path / "parts", workspace="demo", environment="dev")
    assert (v.kind, v.format, v.files) == ("directory", "csv", 3)
    assert v.profile is not None and v.profile.rows == 60
    frame = c.load_dataset("parts", workspace="demo", environment="dev")
    assert isinstance(frame, pd.DataFrame)
    pd.testing.assert_frame_equal(frame, df, check_dtype=False)


def test_format_override_stores_unreadable_tables_as_bytes(world: World, tmp_path: Path) -> None:
    c = world.client
    bad = _write(tmp_path / "broken.parquet", b"this is not parquet at all")
    with pytest.raises(InvalidInput, match=r"cannot be read as Parquet.*format='binary'"):
        c.register_dataset("broken", bad, workspace="demo", environment="dev")
    assert c.list_datasets(workspace="demo") == []
    v = c.register_dataset("broken", bad, workspace="demo", environment="dev", format="binary")
    assert (v.format, v.profile) == ("binary", None)


# -- browsing -----------------------------------------------------------------------------------
def test_list_show_and_diff(world: World) -> None:
    c = world.client
    c.register_dataset("churn", _frame(), workspace="demo", environment="dev", description="x")
    df2 = _frame(80, seed=3).drop(columns=["churned"]).assign(score=1.5)
    c.register_dataset("churn", df2, workspace="demo", environment="dev")
    c.register_dataset("other", _frame(5), workspace="demo", environment="dev")

    listed = c.list_datasets(workspace="demo")
    assert [(d.environment, d.name, d.versions, d.latest and d.latest.version) for d in listed] == [
        ("dev", "churn", 2, 2),
        ("dev", "other", 1, 1),
    ]
    assert listed[0].description == "x"
    assert listed[0].latest is not None and listed[0].latest.rows == 80
    assert c.list_datasets(workspace="demo", environment="prod") == []
    detail = c.get_dataset("churn", workspace="demo", environment="dev")
    assert [h.version for h in detail.history] == [1, 2]

    d = c.diff_datasets("churn@v1", "churn@v2", workspace="demo", environment="dev")
    assert (d.a, d.b, d.same_content, d.rows, d.schema_changed) == (
        "churn@v1",
        "churn@v2",
        False,
        (50, 80),
        True,
    )
    status = {col.name: col.status for col in d.columns}
    assert status == {
        "age": "changed",
        "income": "changed",
        "city": "changed",
        "score": "added",
        "churned": "removed",
    }
    age = {s.stat: s for s in next(col for col in d.columns if col.name == "age").stats}
    assert age["count"].a == 50 and age["count"].b == 80 and age["count"].change == 30
    same = c.diff_datasets("churn@v1", "churn@1", workspace="demo", environment="dev")
    assert same.same_content and not same.schema_changed
    assert all(col.status == "unchanged" for col in same.columns)


# -- runs and lineage ---------------------------------------------------------------------------
def test_runs_record_outputs_and_inputs(world: World) -> None:
    c = world.client
    with c.start_run("prep", workspace="demo", environment="dev", snapshot=False) as run:
        out = c.register_dataset("churn", _frame(), run_id=run.id)
    assert (out.workspace, out.environment, out.run_id) == ("demo", "dev", run.id)
    with c.start_run("train", workspace="demo", environment="dev", snapshot=False) as train:
        frame = c.load_dataset("churn@v1", run_id=train.id)
        assert isinstance(frame, pd.DataFrame)
    g = c.lineage(f"run:{train.id}", workspace="demo")
    assert [(n.kind, n.relation) for n in g.ancestors] == [("dataset_version", "input")]
    assert [(n.kind, n.id) for n in g.ancestors[0].children] == [("run", run.id)]
    g = c.lineage("dataset:dev/churn@v1", workspace="demo")
    assert [n.id for n in g.ancestors] == [run.id]
    assert [n.id for n in g.descendants] == [train.id]


def test_registration_is_audited(world: World) -> None:
    c = world.client
    c.register_dataset("churn", _frame(), workspace="demo", environment="dev")
    c.register_dataset("churn", _frame(), workspace="demo", environment="dev")  # unchanged
    events = c.audit_events(action="dataset.register")
    assert [e.target for e in events] == ["dataset/demo/dev/churn@v1"]
    assert events[0].after is not None and events[0].after["datastore"] == "lake"


# -- bad input leaves nothing behind ------------------------------------------------------------
def test_missing_source_changes_nothing(world: World, unchanged: Unchanged, tmp_path: Path) -> None:
    with unchanged(), pytest.raises(InvalidInput, match=r"source: '.*nope' does not exist"):
        world.client.register_dataset("x", tmp_path / "nope", workspace="demo", environment="dev")
    empty = tmp_path / "empty"
    empty.mkdir()
    with unchanged(), pytest.raises(InvalidInput, match="has no files"):
        world.client.register_dataset("x", empty, workspace="demo", environment="dev")
    assert World.objects(world.lake) == []


@pytest.mark.parametrize(
    ("column", "values", "problem"),
    [
        ("z", [1 + 2j, 3j], "complex128"),
        ("mixed", [1, "a", 2.5], "mixed"),
        ("nested", [[1, 2], [3]], "mixed"),
        ("raw", [b"a", b"b"], "bytes"),
        ("objs", [{"a": 1}, {"b": 2}], "mixed"),
    ],
)
def test_unsupported_columns_are_refused_before_anything_is_stored(
    world: World, unchanged: Unchanged, column: str, values: list[object], problem: str
) -> None:
    df = pd.DataFrame({"ok": range(len(values)), column: values})
    with unchanged(), pytest.raises(InvalidInput) as info:
        world.client.register_dataset("bad", df, workspace="demo", environment="dev")
    assert f"column '{column}' has unsupported type" in info.value.message
    assert problem in info.value.message
    assert World.objects(world.lake) == []


def test_duplicate_column_names_are_refused(world: World, unchanged: Unchanged) -> None:
    df = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with unchanged(), pytest.raises(InvalidInput, match="column names must be unique"):
        world.client.register_dataset("bad", df, workspace="demo", environment="dev")


def test_bad_names_and_references(world: World, unchanged: Unchanged) -> None:
    c = world.client
    c.register_dataset("churn", _frame(), workspace="demo", environment="dev")
    with unchanged():
        with pytest.raises(InvalidInput, match="name: must be letters"):
            c.register_dataset("../x", _frame(), workspace="demo", environment="dev")
        with pytest.raises(InvalidInput, match="ref: expected 'latest'"):
            c.load_dataset("churn@vx", workspace="demo", environment="dev")
        with pytest.raises(NotFound, match="dataset 'churn' in demo/dev has no version v7"):
            c.load_dataset("churn@v7", workspace="demo", environment="dev")
        with pytest.raises(NotFound, match="dataset 'nope' not found in demo/dev"):
            c.load_dataset("nope", workspace="demo", environment="dev")
        with pytest.raises(InvalidInput, match="environment demo/staging has no datastore"):
            c.register_dataset("x", _frame(), workspace="demo", environment="staging")
        with pytest.raises(NotFound, match="datastore 'nope' not found in demo/dev"):
            c.register_dataset("x", _frame(), workspace="demo", environment="dev", datastore="nope")


def test_several_datastores_need_a_name(world: World, tmp_path: Path) -> None:
    c = world.client
    c.create_datastore("demo", "dev", "second", str(tmp_path / "second"))
    with pytest.raises(InvalidInput, match=r"several datastores \(lake, second\); name one"):
        c.register_dataset("x", _frame(), workspace="demo", environment="dev")
    v = c.register_dataset("x", _frame(), workspace="demo", environment="dev", datastore="second")
    assert v.datastore == "second"
    assert len(World.objects(tmp_path / "second")) == 1


# -- permissions --------------------------------------------------------------------------------
def test_viewers_read_but_do_not_write_and_outsiders_see_nothing(
    world: World, connector: Connector, unchanged: Unchanged
) -> None:
    admin = world.client
    admin.register_dataset("churn", _frame(), workspace="demo", environment="dev")
    admin.create_principal("vera")
    admin.create_principal("otto")
    admin.grant("vera", "viewer", "demo", "dev")
    vera = connector.as_principal("vera")
    otto = connector.as_principal("otto")

    frame = vera.load_dataset("churn", workspace="demo", environment="dev")
    assert isinstance(frame, pd.DataFrame)
    with unchanged(), pytest.raises(PermissionDenied, match=r"may not data\.write"):
        vera.register_dataset("churn", _frame(seed=9), workspace="demo", environment="dev")
    with pytest.raises(PermissionDenied, match=r"may not data\.read"):
        vera.get_dataset("churn", workspace="demo", environment="prod")
    with pytest.raises(NotFound, match="workspace 'demo' not found"):
        otto.load_dataset("churn", workspace="demo", environment="dev")
    with pytest.raises(NotFound, match="workspace 'demo' not found"):
        otto.list_datasets(workspace="demo")


def test_a_datastore_holding_dataset_versions_cannot_be_removed(
    client: modelwright.Client, tmp_path: Path
) -> None:

    from modelwright.errors import Conflict

    client.create_workspace("keep")
    client.create_datastore("keep", "dev", "lake", str(tmp_path / "lake"))
    client.register_dataset("d", pd.DataFrame({"a": [1, 2]}), workspace="keep", environment="dev")
    with pytest.raises(Conflict, match="holds 1 dataset version"):
        client.delete_datastore("keep", "dev", "lake")
    assert [d.name for d in client.get_workspace("keep").environments[0].datastores] == ["lake"]
