"""Production data is never reachable from a non-production run: SDK, module API and REST."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pandas as pd
import pytest
from tests.conftest import Connector
from tests.data.conftest import World

import modelwright as mw
from modelwright import InvalidInput, NotFound, PermissionDenied
from modelwright.api.headers import ENVIRONMENT_HEADER
from modelwright.client import Client

Unchanged = Callable[[], AbstractContextManager[None]]
FRAME = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
# Development data: other bytes than production's (the same bytes would be refused in dev).
DEV_FRAME = pd.DataFrame({"x": [4, 5, 6], "y": ["d", "e", "f"]})
RULE = "production data is never reachable from non-production environments"


def _check_message(message: str, run_id: str, verb: str) -> None:
    assert f"run '{run_id}' in non-production environment 'dev' may not {verb}" in message
    assert "dataset 'demo/prod/secret'" in message
    assert "datastore 'vault' is classified production" in message
    assert RULE in message


@pytest.fixture
def secret(world: World) -> World:
    world.client.register_dataset("secret", FRAME, workspace="demo", environment="prod")
    return world


def test_a_dev_run_cannot_read_production_data(secret: World, unchanged: Unchanged) -> None:
    c = secret.client
    with c.start_run("x", workspace="demo", environment="dev", snapshot=False) as run:
        with unchanged(), pytest.raises(PermissionDenied) as info:
            c.load_dataset("secret", workspace="demo", environment="prod", run_id=run.id)
        with pytest.raises(PermissionDenied):
            c.load_dataset("prod/secret@v1", run_id=run.id)
    _check_message(info.value.message, run.id, "read")
    assert info.value.details["rule"] == "production-isolation"
    assert info.value.details["run_environment"] == "dev"
    # A production run reads it, whatever the client declares.
    with c.start_run("x", workspace="demo", environment="prod", snapshot=False) as prod_run:
        got = c.load_dataset("secret", workspace="demo", environment="prod", run_id=prod_run.id)
        assert isinstance(got, pd.DataFrame)


def test_without_a_run_the_declared_environment_decides(
    secret: World, cache_dir: Path, unchanged: Unchanged
) -> None:
    c = secret.client
    for acting in (None, "dev", "demo/dev"):
        c.act_in(acting)
        shutil.rmtree(cache_dir, ignore_errors=True)  # a warm cache must not matter either
        with unchanged(), pytest.raises(PermissionDenied) as info:
            c.load_dataset("prod/secret@v1", workspace="demo")
        assert info.value.details["rule"] == "production-isolation"
        assert RULE in info.value.message
        assert "act in a production environment" in info.value.message
    c.act_in("prod")
    assert c.load_dataset("prod/secret@v1", workspace="demo").equals(FRAME)
    c.act_in("demo/prod")
    assert c.load_dataset("prod/secret@v1", workspace="demo").equals(FRAME)
    # An environment that does not exist is named as such, not read as "no environment".
    c.act_in("dve")
    with pytest.raises(NotFound, match="dve"):
        c.load_dataset("prod/secret@v1", workspace="demo")
    c.act_in(None)


@pytest.mark.parametrize("backend", ["http"])
def test_the_raw_object_route_applies_the_declared_environment(
    secret: World, connector: Connector
) -> None:
    c = secret.client
    digest = c.get_dataset_version("secret@v1", workspace="demo", environment="prod").digest
    url = f"{connector.url}/api/v1/objects/datastores/demo/prod/vault/{digest}"
    token = connector.local_admin.create_token(name="raw").secret
    auth = {"Authorization": f"Bearer {token}"}
    for declared in ({}, {ENVIRONMENT_HEADER: "dev"}, {ENVIRONMENT_HEADER: "demo/dev"}):
        r = httpx.get(url, headers={**auth, **declared})
        assert r.status_code == 403, (declared, r.text)
        assert r.json()["error"]["details"]["rule"] == "production-isolation"
    r = httpx.get(url, headers={**auth, ENVIRONMENT_HEADER: "bad name!"})
    assert r.status_code == 400
    assert ENVIRONMENT_HEADER in r.json()["error"]["message"]
    r = httpx.get(url, headers={**auth, ENVIRONMENT_HEADER: "prod"})
    assert r.status_code == 200
    assert hashlib.sha256(r.content).hexdigest() == digest


def test_production_bytes_are_never_registered_outside_production(
    secret: World, unchanged: Unchanged, tmp_path: Path
) -> None:
    c = secret.client
    c.act_in("prod")
    stolen = c.load_dataset("prod/secret@v1", workspace="demo")
    c.act_in("dev")
    with unchanged(), pytest.raises(PermissionDenied) as info:
        c.register_dataset("copy", stolen, workspace="demo", environment="dev")
    assert info.value.details["rule"] == "production-isolation"
    assert "holds production data" in info.value.message
    assert World.objects(secret.lake) == []
    # A file of a production directory, alone or in another directory, is refused too.
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "a.txt").write_text("alpha")
    (tree / "sub" / "b.txt").write_text("beta")
    c.act_in("prod")
    c.register_dataset("tree", tree, workspace="demo", environment="prod")
    c.act_in(None)
    single = tmp_path / "b.txt"
    single.write_text("beta")
    other = tmp_path / "other"
    other.mkdir()
    (other / "copy.txt").write_text("alpha")
    (other / "mine.txt").write_text("new")
    for source in (single, other):
        with unchanged(), pytest.raises(PermissionDenied) as info:
            c.register_dataset("leak", source, workspace="demo", environment="dev")
        assert info.value.details["rule"] == "production-isolation"
    # The same bytes may be registered again inside production.
    assert c.register_dataset("again", FRAME, workspace="demo", environment="prod").version == 1


def test_production_bytes_are_never_logged_as_artifacts_outside_production(
    secret: World, unchanged: Unchanged, tmp_path: Path
) -> None:
    c = secret.client
    c.act_in("prod")
    path = c.load_dataset("prod/secret@v1", workspace="demo", as_="path")
    c.act_in(None)
    assert isinstance(path, Path)
    copy = tmp_path / "secret.parquet"
    shutil.copyfile(path, copy)
    with c.start_run("x", workspace="demo", environment="dev", snapshot=False) as run:
        with unchanged(), pytest.raises(PermissionDenied) as info:
            run.log_artifact(copy)
        assert info.value.details["rule"] == "production-isolation"
    with c.start_run("x", workspace="demo", environment="prod", snapshot=False) as prod_run:
        prod_run.log_artifact(copy)  # inside production: allowed


@pytest.mark.parametrize("backend", ["http"])
def test_production_bytes_are_refused_at_the_upload_route_before_the_body(
    secret: World, connector: Connector
) -> None:
    c = secret.client
    digest = c.get_dataset_version("secret@v1", workspace="demo", environment="prod").digest
    token = connector.local_admin.create_token(name="raw").secret
    url = f"{connector.url}/api/v1/objects/datastores/demo/dev/lake/{digest}"
    r = httpx.put(url, content=b"", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403, r.text
    assert r.json()["error"]["details"]["rule"] == "production-isolation"
    assert World.objects(secret.lake) == []


def test_a_dev_run_cannot_write_production_data_and_no_byte_moves(
    world: World, unchanged: Unchanged, tmp_path: Path
) -> None:
    c = world.client
    src = tmp_path / "f.csv"
    FRAME.to_csv(src, index=False)
    with c.start_run("x", workspace="demo", environment="dev", snapshot=False) as run:
        for source in (FRAME, src):
            with unchanged(), pytest.raises(PermissionDenied) as info:
                c.register_dataset(
                    "secret", source, workspace="demo", environment="prod", run_id=run.id
                )
            _check_message(info.value.message, run.id, "write")
        assert World.objects(world.vault) == []
        # A dev run may still write dev data, and a production run production data.
        assert c.register_dataset("ok", FRAME, workspace="demo", environment="dev", run_id=run.id)
    with c.start_run("x", workspace="demo", environment="prod", snapshot=False) as prod_run:
        v = c.register_dataset("secret", FRAME, run_id=prod_run.id)
    assert (v.environment, v.classification) == ("prod", "production")


@pytest.fixture
def fluent(connector: Connector) -> Iterator[Client]:
    """The module-level API on the test's platform."""
    from modelwright import _fluent

    client = connector.admin()
    _fluent._state.client = client
    yield client
    while _fluent._stack:
        _fluent._stack[-1].end("killed")
    _fluent._state.client = None


def test_module_api_uses_the_active_run(secret: World, fluent: Client) -> None:
    with mw.start_run("x", workspace="demo", environment="dev") as run:
        v = mw.register_dataset("features", DEV_FRAME)
        assert (v.environment, v.run_id) == ("dev", run.id)
        assert isinstance(mw.load_dataset("features@v1"), pd.DataFrame)
        with pytest.raises(PermissionDenied) as info:
            mw.load_dataset("prod/secret")
        _check_message(info.value.message, run.id, "read")
        with pytest.raises(PermissionDenied):
            mw.register_dataset("secret", FRAME, environment="prod")
    g = fluent.lineage(f"run:{run.id}", workspace="demo")
    assert [n.relation for n in g.ancestors] == ["input"]
    assert [n.relation for n in g.descendants] == ["output"]


@pytest.mark.parametrize("backend", ["http"])
def test_rest_operations_apply_the_rule(secret: World, connector: Connector) -> None:
    c = secret.client
    token = connector.local_admin.create_token(name="rest").secret
    with c.start_run("x", workspace="demo", environment="dev", snapshot=False) as run:
        base = f"{connector.url}/api/v1/workspaces/demo/environments/prod/datasets/secret"
        headers = {"Authorization": f"Bearer {token}"}
        digest = c.get_dataset_version("secret@v1", workspace="demo", environment="prod").digest
        calls = [
            ("POST", f"{base}/versions/latest/load", {"run_id": run.id}),
            ("POST", f"{base}/uploads", {"run_id": run.id, "digests": [digest]}),
            (
                "POST",
                f"{base}/versions",
                {"run_id": run.id, "kind": "dataframe", "format": "parquet", "digest": digest},
            ),
        ]
        for method, url, body in calls:
            r = httpx.request(method, url, json=body, headers=headers)
            assert r.status_code == 403, (url, r.text)
            error = r.json()["error"]
            assert error["code"] == "permission_denied"
            assert error["details"]["rule"] == "production-isolation"
            assert RULE in error["message"]


def test_a_copy_out_of_production_is_explicit_and_audited(
    secret: World, connector: Connector, unchanged: Unchanged, tmp_path: Path
) -> None:
    c = secret.client
    copied = c.copy_dataset(
        "prod/secret@v1", workspace="demo", to_environment="dev", reason="anonymised sample"
    )
    assert (copied.environment, copied.name, copied.version) == ("dev", "secret", 1)
    assert copied.classification == "non-production"
    # Stored in the dev datastore by the server, readable from dev like any dev data.
    assert World.objects(secret.lake)
    with c.start_run("x", workspace="demo", environment="dev", snapshot=False) as run:
        got = c.load_dataset("secret@v1", workspace="demo", environment="dev", run_id=run.id)
    assert isinstance(got, pd.DataFrame) and got.equals(FRAME)
    (event,) = c.audit_events(action="dataset.copy")
    assert event.before == {"source": "dataset/demo/prod/secret@v1", "datastore": "vault"}
    assert event.after is not None
    assert (event.after["reason"], event.after["leaves_production"]) == (
        "anonymised sample",
        True,
    )
    # Copying again changes nothing (the latest dev version has these bytes).
    again = c.copy_dataset("prod/secret@v1", workspace="demo", to_environment="dev", reason="x")
    assert again.version == 1 and len(c.audit_events(action="dataset.copy")) == 1

    # Who may not read both environments may not copy; nothing moves.
    admin = connector.local_admin
    admin.create_principal("dev-only")
    admin.grant("dev-only", "data-scientist", "demo", "dev")
    admin.create_principal("prod-reader")
    admin.grant("prod-reader", "viewer", "demo", "prod")
    for who in ("dev-only", "prod-reader"):
        me = connector.as_principal(who)
        with unchanged(), pytest.raises(PermissionDenied):
            me.copy_dataset(
                "prod/secret@v1", workspace="demo", to_environment="dev", to_name="n", reason="r"
            )
    with unchanged(), pytest.raises(InvalidInput, match="reason"):
        c.copy_dataset("prod/secret@v1", workspace="demo", to_environment="dev", reason="")
