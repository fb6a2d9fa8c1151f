"""Production data is never reachable from a non-production run: SDK, module API and REST."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import httpx
import pandas as pd
import pytest
from tests.conftest import Connector
from tests.data.conftest import World

import modelwright as mw
from modelwright import PermissionDenied
from modelwright.client import Client

Unchanged = Callable[[], AbstractContextManager[None]]
FRAME = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"]})
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
    # Without a run, and from a production run, the grants decide (admin: allowed).
    assert isinstance(c.load_dataset("secret", workspace="demo", environment="prod"), pd.DataFrame)
    with c.start_run("x", workspace="demo", environment="prod", snapshot=False) as prod_run:
        got = c.load_dataset("secret", workspace="demo", environment="prod", run_id=prod_run.id)
        assert isinstance(got, pd.DataFrame)


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
        v = mw.register_dataset("features", FRAME)
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
