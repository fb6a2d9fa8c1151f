"""``modelwright.connect``: one interface over an embedded platform or a server."""

from __future__ import annotations

import importlib
import pkgutil
import re
import socket
from pathlib import Path

import pytest
from tests.conftest import Connector, LiveServer

import modelwright
from modelwright import InvalidInput, Unauthenticated
from modelwright.api import OPERATIONS
from modelwright.client import Client, HttpTransport, LocalTransport
from modelwright.client import _client as client_module
from modelwright.core.platform import Platform
from modelwright.errors import ServiceUnavailable
from modelwright.settings import Settings


def test_connect_to_a_home_directory_acts_as_the_local_admin(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    if settings.db_url:
        monkeypatch.setenv("MODELWRIGHT_DB_URL", settings.db_url)
    else:
        monkeypatch.delenv("MODELWRIGHT_DB_URL", raising=False)
    monkeypatch.delenv("MODELWRIGHT_REQUIRE_AUTH", raising=False)
    with modelwright.connect(settings.home) as client:
        assert isinstance(client.transport, LocalTransport)
        assert client.transport.platform.settings.database_url == settings.database_url
        assert client.whoami().principal == "admin"
        client.create_workspace("w")
    # The state is in the store, not in the client.
    with modelwright.connect(str(settings.home)) as again:
        assert [w.name for w in again.list_workspaces()] == ["w"]


def test_connect_without_a_target_uses_modelwright_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "from-env"
    monkeypatch.setenv("MODELWRIGHT_HOME", str(home))
    for var in ("MODELWRIGHT_DB_URL", "MODELWRIGHT_REQUIRE_AUTH"):
        monkeypatch.delenv(var, raising=False)
    with modelwright.connect() as client:
        client.create_workspace("w")
    assert (home / "modelwright.db").is_file()


def test_embedded_mode_can_require_a_token(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (
        modelwright.connect(settings.home)
        if not settings.db_url
        else Client(LocalTransport(Platform(settings))) as admin
    ):
        secret = admin.create_token(name="scripts").secret
    monkeypatch.setenv("MODELWRIGHT_REQUIRE_AUTH", "1")
    if settings.db_url:
        monkeypatch.setenv("MODELWRIGHT_DB_URL", settings.db_url)
    with pytest.raises(Unauthenticated, match="requires a token"):
        modelwright.connect(settings.home)
    with pytest.raises(Unauthenticated, match="requires a token"):
        modelwright.connect(settings.home, principal="admin")
    with pytest.raises(Unauthenticated, match="malformed"):
        modelwright.connect(settings.home, token="nope")
    with modelwright.connect(settings.home, token=secret) as client:
        assert client.whoami().principal == "admin"


def test_local_and_http_clients_give_the_same_answers(platform: Platform) -> None:
    with Client(LocalTransport(Platform(platform.settings))) as local:
        local.create_workspace("w")
        local.create_datastore("w", "prod", "lake", "s3://b/l", classification="production")
        local.create_principal("bob")
        local.grant("bob", "viewer", "w", "dev")
        secret = local.create_token(name="http").secret
        with (
            LiveServer(platform) as server,
            modelwright.connect(server.url, token=secret) as remote,
        ):
            assert isinstance(remote.transport, HttpTransport)
            assert remote.get_workspace("w") == local.get_workspace("w")
            assert remote.list_workspaces() == local.list_workspaces()
            assert remote.list_grants() == local.list_grants()
            assert remote.list_roles() == local.list_roles()
            assert remote.list_principals() == local.list_principals()
            assert remote.export() == local.export()
            assert remote.audit_events() == local.audit_events()
            assert remote.check_access("data.read", "w", "dev", principal="bob") == (
                local.check_access("data.read", "w", "dev", principal="bob")
            )


def test_every_operation_is_declared_once_and_has_a_client_method() -> None:
    import modelwright.api

    declared: dict[str, object] = {}
    for info in pkgutil.iter_modules(modelwright.api.__path__, "modelwright.api."):
        module = importlib.import_module(info.name)
        declared |= {n: v for n, v in vars(module).items() if any(v is op for op in OPERATIONS)}
    assert len(declared) == len(OPERATIONS), "every operation is a named declaration"
    package = Path(client_module.__file__).parent
    client_source = "\n".join(p.read_text() for p in sorted(package.glob("*.py")))
    missing = [name for name in declared if not re.search(rf"\.{name}\b", client_source)]
    assert not missing, f"operations without a client method: {missing}"
    names = [op.name for op in OPERATIONS]
    assert len(names) == len(set(names)), "operation names are unique"
    routes = [(op.method, op.path) for op in OPERATIONS]
    assert len(routes) == len(set(routes)), "no two operations share a route"
    assert all(op.path.startswith("/api/v1/") for op in OPERATIONS)


def test_client_side_validation_names_the_field(connector: Connector) -> None:
    client = connector.admin()
    with pytest.raises(InvalidInput) as exc:
        client.create_workspace("w", environments=[{"name": "dev", "production": "maybe"}])
    assert exc.value.message.startswith("environments[0].production: ")
    assert exc.value.details == {"field": "environments[0].production"}


def test_an_unreachable_server_is_service_unavailable() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with (
        modelwright.connect(f"http://127.0.0.1:{port}", token="mwt_x") as client,
        pytest.raises(ServiceUnavailable, match="cannot reach"),
    ):
        client.whoami()
