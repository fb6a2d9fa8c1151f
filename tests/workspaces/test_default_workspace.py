"""The default workspace is a platform operation: a platform admin who sees no workspace gets
one made with the platform's own datastore paths, embedded and over HTTP alike; anyone else
is told what to do instead, and nothing is made."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from tests.conftest import Connector

from modelwright.client import Client, LocalTransport
from modelwright.core.platform import Platform
from modelwright.errors import InvalidInput, NotFound, PermissionDenied
from modelwright.settings import Settings

Unchanged = Callable[[], AbstractContextManager[None]]


def test_an_admin_who_sees_no_workspace_gets_the_default_one(
    client: Client, settings: Settings
) -> None:
    assert client.resolve_workspace() == "default"
    info = client.get_workspace("default")
    home = settings.home.resolve()
    assert [(e.name, e.production) for e in info.environments] == [
        ("dev", False),
        ("staging", False),
        ("prod", True),
    ]
    assert [(e.datastores[0].url, e.datastores[0].classification) for e in info.environments] == [
        (str(home / "data" / "default" / "dev"), "non-production"),
        (str(home / "data" / "default" / "staging"), "non-production"),
        (str(home / "data" / "default" / "prod"), "production"),
    ]
    # asking again answers the same workspace and makes nothing
    assert client.ensure_default_workspace() == info
    assert [w.name for w in client.list_workspaces()] == ["default"]


def test_a_caller_who_may_not_create_workspaces_is_told_what_to_do(
    client: Client, connector: Connector, unchanged: Unchanged
) -> None:
    client.create_principal("nina")
    nina = connector.as_principal("nina")
    with unchanged():
        with pytest.raises(PermissionDenied, match="create workspaces"):
            nina.ensure_default_workspace()
        with pytest.raises(InvalidInput, match="no workspace is visible to you; pass workspace="):
            nina.resolve_workspace()


def test_no_default_workspace_beside_others_or_where_the_platform_makes_none(
    client: Client, settings: Settings, unchanged: Unchanged
) -> None:
    client.create_workspace("ml")
    client.create_workspace("ops")
    with unchanged(), pytest.raises(NotFound, match=r"no default workspace \(you see ml, ops\)"):
        client.ensure_default_workspace()
    client.delete_workspace("ml")
    client.delete_workspace("ops")
    closed = settings.model_copy(update={"default_workspace": False})
    with Client(LocalTransport(Platform(closed))) as embedded:
        with unchanged(), pytest.raises(NotFound, match="this platform makes none"):
            embedded.ensure_default_workspace()
        with pytest.raises(InvalidInput, match="no workspace is visible to you"):
            embedded.resolve_workspace()
