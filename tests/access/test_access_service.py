"""Principals, roles (built-in and custom), grants and the "may I?" check, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from tests.conftest import Connector

from modelwright import Conflict, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from modelwright.core.actions import BUILTIN_ROLES, Action

Unchanged = Callable[[], AbstractContextManager[None]]


def test_principals_are_created_listed_and_deleted(connector: Connector) -> None:
    client = connector.admin()
    created = client.create_principal(
        "ci-bot", kind="service", display_name="CI robot", email="ci@example.com"
    )
    assert (created.name, created.kind, created.display_name, created.email) == (
        "ci-bot",
        "service",
        "CI robot",
        "ci@example.com",
    )
    client.create_principal("alice")
    assert [p.name for p in client.list_principals()] == ["admin", "alice", "ci-bot"]
    assert client.delete_principal("ci-bot") == created
    assert [p.name for p in client.list_principals()] == ["admin", "alice"]


def test_a_principal_cannot_delete_itself(connector: Connector, unchanged: Unchanged) -> None:
    client = connector.admin()
    with unchanged(), pytest.raises(Conflict, match="cannot delete itself"):
        client.delete_principal("admin")


def test_deleting_a_principal_removes_its_grants_and_tokens(connector: Connector) -> None:
    admin = connector.local_admin
    admin.create_workspace("w")
    admin.create_principal("bob")
    admin.grant("bob", "viewer", "w")
    bob = connector.as_principal("bob")
    assert bob.whoami().principal == "bob"
    connector.admin().delete_principal("bob")
    assert admin.list_grants(principal="bob") == []
    assert admin.list_tokens(principal="bob") == []
    with pytest.raises(Unauthenticated, match="unknown token"):
        bob.whoami()
    # A new principal of the same name starts with nothing.
    admin.create_principal("bob")
    assert admin.check_access(Action.DATA_READ, "w", "dev", principal="bob").allowed is False


def test_builtin_roles_are_listed_with_their_actions(connector: Connector) -> None:
    client = connector.admin()
    client.create_role("auditor", [Action.AUDIT_READ], description="reads the trail")
    roles = client.list_roles()
    builtin = {r.name: set(r.actions) for r in roles if r.builtin}
    assert builtin == {name: set(actions) for name, (_, actions) in BUILTIN_ROLES.items()}
    assert builtin["admin"] == set(Action)
    # Built-in roles first, then custom ones.
    assert [r.builtin for r in roles] == [True] * len(BUILTIN_ROLES) + [False]
    assert roles[-1].name == "auditor"
    assert roles[-1].description == "reads the trail"


def test_custom_role_allows_exactly_its_actions(connector: Connector) -> None:
    admin = connector.admin()
    role = admin.create_role(
        "deployer", ["endpoint.deploy", Action.ENDPOINT_INVOKE, "endpoint.deploy"]
    )
    assert role.actions == [Action.ENDPOINT_DEPLOY, Action.ENDPOINT_INVOKE]  # sorted, unique
    assert role.builtin is False
    admin.create_workspace("w")
    admin.create_principal("dep")
    admin.grant("dep", "deployer", "w", "prod")
    me = connector.as_principal("dep")
    wrong = []
    for action in Action:
        for env in ("dev", "staging", "prod"):
            expected = env == "prod" and action in (Action.ENDPOINT_DEPLOY, Action.ENDPOINT_INVOKE)
            if me.check_access(action, "w", env).allowed != expected:
                wrong.append(f"{action.value} in w/{env}")
    assert not wrong, wrong


def test_bad_role_definitions_are_refused(connector: Connector, unchanged: Unchanged) -> None:
    client = connector.admin()
    with unchanged():
        with pytest.raises(InvalidInput, match="actions"):
            client.create_role("empty", [])
        with pytest.raises(InvalidInput, match="actions"):
            client.create_role("typo", ["data.reed"])


def test_grants_are_listed_and_revoked(connector: Connector, unchanged: Unchanged) -> None:
    client = connector.admin()
    client.create_workspace("w")
    client.create_principal("bob")
    g = client.grant("bob", "viewer", "w", "dev")
    assert (g.principal, g.role, g.workspace, g.environment) == ("bob", "viewer", "w", "dev")
    client.grant("bob", "approver", "w")
    listed = client.list_grants(principal="bob")
    assert [(x.role, x.workspace, x.environment) for x in listed] == [
        ("approver", "w", "*"),
        ("viewer", "w", "dev"),
    ]
    assert [x.principal for x in client.list_grants(workspace="w")] == ["bob", "bob"]
    assert client.revoke_grant("bob", "viewer", "w", "dev") == g
    assert len(client.list_grants(principal="bob")) == 1
    with unchanged(), pytest.raises(NotFound, match="has no role 'viewer'"):
        client.revoke_grant("bob", "viewer", "w", "dev")
    # "every workspace" always comes with "every environment".
    with unchanged(), pytest.raises(InvalidInput, match="must also cover every environment"):
        client.grant("bob", "viewer", "*", "dev")


def test_whoami_lists_own_grants_and_list_grants_hides_others(connector: Connector) -> None:
    admin = connector.local_admin
    admin.create_workspace("a")
    admin.create_workspace("b")
    for name in ("bob", "carol"):
        admin.create_principal(name)
    admin.grant("bob", "viewer", "a", "dev")
    admin.grant("carol", "viewer", "b", "dev")
    admin.grant("carol", "admin", "a", "staging")
    admin.grant("bob", "viewer", "a", "staging")

    bob = connector.as_principal("bob")
    who = bob.whoami()
    assert who.principal == "bob"
    assert {(g.role, g.workspace, g.environment) for g in who.grants} == {
        ("viewer", "a", "dev"),
        ("viewer", "a", "staging"),
    }
    # Bob manages nothing: he sees his own grants only.
    assert {(g.principal, g.workspace, g.environment) for g in bob.list_grants()} == {
        ("bob", "a", "dev"),
        ("bob", "a", "staging"),
    }
    # Carol manages a/staging: she sees her own grants and every grant there.
    carol = connector.as_principal("carol")
    assert {(g.principal, g.role, g.workspace, g.environment) for g in carol.list_grants()} == {
        ("carol", "viewer", "b", "dev"),
        ("carol", "admin", "a", "staging"),
        ("bob", "viewer", "a", "staging"),
    }


def test_environment_admins_cannot_escalate(connector: Connector, unchanged: Unchanged) -> None:
    admin = connector.local_admin
    admin.create_workspace("w")
    admin.create_principal("envadmin")
    admin.create_principal("friend")
    admin.grant("envadmin", "admin", "w", "staging")
    admins_token = admin.create_token(name="admin's own")
    me = connector.as_principal("envadmin")
    # Inside its environment it manages access fully ...
    me.grant("friend", "ml-engineer", "w", "staging")
    assert me.check_access(Action.ENDPOINT_DEPLOY, "w", "staging", principal="friend").allowed
    # ... but it cannot reach beyond it, nor create principals, roles or tokens for others.
    attempts = [
        lambda: me.grant("friend", "admin", "w", "prod"),
        lambda: me.grant("friend", "admin", "w"),
        lambda: me.grant("friend", "admin", "*"),
        lambda: me.grant("envadmin", "admin", "w"),
        lambda: me.create_principal("sock-puppet"),
        lambda: me.create_role("super", list(Action)),
        lambda: me.create_token(principal="friend"),
        lambda: me.list_tokens(principal="admin"),
        lambda: me.check_access(Action.DATA_READ, "w", "prod", principal="friend"),
    ]
    for attempt in attempts:
        with unchanged(), pytest.raises(PermissionDenied):
            attempt()
    with unchanged(), pytest.raises(NotFound):  # another's token: as if it did not exist
        me.revoke_token(admins_token.id)


def test_permission_denied_names_principal_action_and_place(connector: Connector) -> None:
    admin = connector.local_admin
    admin.create_workspace("w")
    admin.create_principal("bob")
    admin.grant("bob", "viewer", "w", "dev")
    with pytest.raises(PermissionDenied) as exc:
        connector.as_principal("bob").create_datastore("w", "dev", "d", "memory://d")
    assert exc.value.message == (
        "principal 'bob' may not access.manage in workspace 'w', environment 'dev': "
        "no grant gives a role with that action there"
    )
    assert exc.value.details == {
        "principal": "bob",
        "action": "access.manage",
        "workspace": "w",
        "environment": "dev",
    }
