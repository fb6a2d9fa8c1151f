"""Workspaces, their environments (the promotion path) and datastores, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from tests.conftest import Connector

from modelwright import AlreadyExists, Conflict, InvalidInput, NotFound
from modelwright.client import Client
from modelwright.core.actions import Action

Unchanged = Callable[[], AbstractContextManager[None]]


def test_default_promotion_path_is_dev_staging_prod(client: Client) -> None:
    created = client.create_workspace("demo", description="the demo team")
    assert [(e.name, e.position, e.production) for e in created.environments] == [
        ("dev", 0, False),
        ("staging", 1, False),
        ("prod", 2, True),
    ]
    assert created.description == "the demo team"
    assert created.created_at.tzinfo is not None
    assert client.get_workspace("demo") == created
    assert [w.name for w in client.list_workspaces()] == ["demo"]


def test_custom_promotion_path_keeps_its_order(client: Client) -> None:
    created = client.create_workspace(
        "custom",
        environments=[
            {"name": "sandbox"},
            {"name": "qa", "description": "acceptance"},
            {
                "name": "live",
                "production": True,
                "datastores": [
                    {
                        "name": "lake",
                        "url": "s3://bucket/lake",
                        "classification": "production",
                        "region": "eu-west-1",
                    }
                ],
            },
        ],
    )
    assert [(e.name, e.position) for e in created.environments] == [
        ("sandbox", 0),
        ("qa", 1),
        ("live", 2),
    ]
    live = created.environments[2]
    assert live.production is True
    assert [(d.name, d.url, d.classification, d.region) for d in live.datastores] == [
        ("lake", "s3://bucket/lake", "production", "eu-west-1")
    ]
    # A new environment goes to the end of the path.
    after = client.create_environment("custom", "canary", description="last step")
    assert [(e.name, e.position) for e in after.environments][-1] == ("canary", 3)
    assert client.get_workspace("custom").environments[-1].description == "last step"


def test_list_workspaces_is_sorted_and_delete_removes_one(client: Client) -> None:
    for name in ("zeta", "alpha", "mid"):
        client.create_workspace(name)
    assert [w.name for w in client.list_workspaces()] == ["alpha", "mid", "zeta"]
    deleted = client.delete_workspace("mid")
    assert deleted.name == "mid"
    assert [w.name for w in client.list_workspaces()] == ["alpha", "zeta"]
    with pytest.raises(NotFound, match="workspace 'mid' not found"):
        client.get_workspace("mid")


def test_datastores_attach_and_detach(client: Client) -> None:
    client.create_workspace("w")
    info = client.create_datastore(
        "w", "dev", "raw", "file:///tmp/plain/raw", classification="non-production", region="eu"
    )
    assert (info.name, info.url, info.classification, info.region) == (
        "raw",
        "file:///tmp/plain/raw",
        "non-production",
        "eu",
    )
    client.create_datastore("w", "prod", "lake", "s3://bucket/lake", classification="production")
    client.create_datastore("w", "dev", "local", "/tmp/plain/path")
    ws = client.get_workspace("w")
    assert [d.name for d in ws.environments[0].datastores] == ["local", "raw"]
    assert [d.name for d in ws.environments[2].datastores] == ["lake"]

    removed = client.delete_datastore("w", "dev", "raw")
    assert removed == info
    assert [d.name for d in client.get_workspace("w").environments[0].datastores] == ["local"]


def test_production_datastore_never_attaches_to_a_non_production_environment(
    client: Client, unchanged: Unchanged
) -> None:
    client.create_workspace("w")
    for env in ("dev", "staging"):
        with unchanged(), pytest.raises(Conflict, match="classified production") as exc:
            client.create_datastore("w", env, "lake", "s3://b/lake", classification="production")
        assert exc.value.details == {"workspace": "w", "environment": env, "datastore": "lake"}
    # The same datastore is fine in the production environment.
    assert client.create_datastore(
        "w", "prod", "lake", "s3://b/lake", classification="production"
    ).classification == ("production")
    # And a new workspace cannot declare one in a non-production environment either.
    with unchanged(), pytest.raises(InvalidInput, match="classified production"):
        client.create_workspace(
            "w2",
            environments=[
                {
                    "name": "dev",
                    "datastores": [
                        {"name": "lake", "url": "s3://b/x", "classification": "production"}
                    ],
                }
            ],
        )


def test_unknown_workspace_or_environment_is_not_found(
    client: Client, unchanged: Unchanged
) -> None:
    client.create_workspace("w")
    client.create_principal("bob")
    failing = [
        lambda: client.get_workspace("nope"),
        lambda: client.delete_workspace("nope"),
        lambda: client.create_environment("nope", "qa"),
        lambda: client.create_datastore("nope", "dev", "d", "memory://d"),
        lambda: client.create_datastore("w", "nope", "d", "memory://d"),
        lambda: client.delete_datastore("w", "nope", "d"),
        lambda: client.delete_datastore("w", "dev", "nope"),
        lambda: client.grant("bob", "viewer", "nope"),
        lambda: client.grant("bob", "viewer", "w", "nope"),
        lambda: client.grant("bob", "nope", "w"),
        lambda: client.grant("nope", "viewer", "w"),
        lambda: client.revoke_grant("bob", "viewer", "w"),
        lambda: client.delete_principal("nope"),
        lambda: client.check_access(Action.DATA_READ, "w", principal="nope"),
        lambda: client.create_token(principal="nope"),
        lambda: client.revoke_token(999_999),
    ]
    for call in failing:
        with unchanged(), pytest.raises(NotFound) as exc:
            call()
        assert "not found" in exc.value.message or "has no role" in exc.value.message
    # The message names what was asked for and what exists instead.
    with pytest.raises(NotFound) as exc:
        client.create_datastore("w", "qa", "d", "memory://d")
    assert exc.value.message == (
        "environment 'qa' not found in workspace 'w' (it has: dev, staging, prod)"
    )
    assert exc.value.details == {"workspace": "w", "environment": "qa"}


def test_duplicate_names_are_refused(client: Client, unchanged: Unchanged) -> None:
    client.create_workspace("w")
    client.create_datastore("w", "dev", "d", "memory://d")
    client.create_principal("bob")
    client.create_role("reader", [Action.DATA_READ])
    client.grant("bob", "viewer", "w", "dev")
    failing = [
        (lambda: client.create_workspace("w"), "workspace 'w' already exists"),
        (lambda: client.create_environment("w", "dev"), "environment 'dev' already exists"),
        (lambda: client.create_datastore("w", "dev", "d", "memory://e"), "datastore 'd'"),
        (lambda: client.create_principal("bob"), "principal 'bob' already exists"),
        (lambda: client.create_principal("admin"), "principal 'admin' already exists"),
        (lambda: client.create_role("reader", [Action.DATA_READ]), "role 'reader' already"),
        (lambda: client.create_role("viewer", [Action.DATA_READ]), "role 'viewer' already"),
        (lambda: client.grant("bob", "viewer", "w", "dev"), "already has role 'viewer'"),
    ]
    for call, message in failing:
        with unchanged(), pytest.raises(AlreadyExists, match=message):
            call()
    # Duplicates inside one request are invalid input rather than conflicts with the state.
    with unchanged(), pytest.raises(InvalidInput, match="environment 'dev' is declared twice"):
        client.create_workspace("w2", environments=[{"name": "dev"}, {"name": "dev"}])
    with unchanged(), pytest.raises(InvalidInput, match="datastore 'x' is declared twice"):
        client.create_workspace(
            "w3",
            environments=[
                {
                    "name": "dev",
                    "datastores": [
                        {"name": "x", "url": "memory://a"},
                        {"name": "x", "url": "memory://b"},
                    ],
                }
            ],
        )


BAD_NAMES = ["../x", "", "x" * 65, "a\x00b", "a\nb", "tab\tname", "a/b", "-dash", "a..b", "sp ace"]


def test_invalid_names_are_refused_everywhere(client: Client, unchanged: Unchanged) -> None:
    client.create_workspace("w")
    client.create_principal("bob")
    with unchanged():
        _refuse_bad_names(client)


def _refuse_bad_names(client: Client) -> None:
    for bad in BAD_NAMES:
        failing = {
            "create_workspace": lambda bad=bad: client.create_workspace(bad),
            "create_environment": lambda bad=bad: client.create_environment("w", bad),
            "create_datastore": lambda bad=bad: client.create_datastore(
                "w", "dev", bad, "memory://d"
            ),
            "create_principal": lambda bad=bad: client.create_principal(bad),
            "create_role": lambda bad=bad: client.create_role(bad, [Action.DATA_READ]),
            "grant principal": lambda bad=bad: client.grant(bad, "viewer", "w"),
            "grant role": lambda bad=bad: client.grant("bob", bad, "w"),
            "grant workspace": lambda bad=bad: client.grant("bob", "viewer", bad),
            "grant environment": lambda bad=bad: client.grant("bob", "viewer", "w", bad),
            "check_access workspace": lambda bad=bad: client.check_access("data.read", bad),
            "check_access environment": lambda bad=bad: client.check_access("data.read", "w", bad),
            "create_token": lambda bad=bad: client.create_token(principal=bad),
            "apply": lambda bad=bad: client.apply({"workspaces": [{"name": bad}]}),
        }
        if bad:  # an empty path segment would be another URL, not a bad name
            failing["get_workspace"] = lambda bad=bad: client.get_workspace(bad)
            failing["delete_principal"] = lambda bad=bad: client.delete_principal(bad)
        for what, call in failing.items():
            with pytest.raises(InvalidInput) as exc:
                call()
            assert exc.value.message, f"{what}({bad!r}) gave an empty message"
            assert exc.value.details.get("field"), f"{what}({bad!r}) does not name the field"


def test_invalid_datastore_urls_and_long_texts_are_refused(
    client: Client, unchanged: Unchanged
) -> None:
    client.create_workspace("w")
    failing = [
        (lambda: client.create_datastore("w", "dev", "d", "nosuchproto://x"), "url"),
        (lambda: client.create_datastore("w", "dev", "d", "s3://b/\x01"), "url"),
        (lambda: client.create_datastore("w", "dev", "d", ""), "url"),
        (lambda: client.create_datastore("w", "dev", "d", "memory://d", region="r" * 65), "region"),
        (lambda: client.create_workspace("x", description="d" * 2001), "description"),
        (lambda: client.create_principal("p", display_name="n" * 201), "display_name"),
        (lambda: client.create_workspace("x", environments=[]), "environments"),
        (
            lambda: client.create_datastore(
                "w",
                "dev",
                "d",
                "memory://d",
                classification="secret",  # type: ignore[arg-type]
            ),
            "classification",
        ),
    ]
    for call, field in failing:
        with unchanged(), pytest.raises(InvalidInput) as exc:
            call()
        assert exc.value.message.startswith(field), exc.value.message


def test_deleting_a_workspace_removes_its_grants(connector: Connector) -> None:
    client = connector.admin()
    client.create_workspace("w")
    client.create_principal("bob")
    client.grant("bob", "data-scientist", "w", "dev")
    client.grant("bob", "viewer", "w")
    client.delete_workspace("w")
    assert client.list_grants(principal="bob") == []
    # A new workspace of the same name does not inherit the old access.
    client.create_workspace("w")
    assert client.check_access(Action.DATA_READ, "w", "dev", principal="bob").allowed is False


def test_members_see_only_their_workspaces(connector: Connector) -> None:
    admin = connector.local_admin
    for name in ("a", "b", "c"):
        admin.create_workspace(name)
    admin.create_principal("bob")
    admin.grant("bob", "viewer", "a", "dev")
    admin.grant("bob", "approver", "c")
    bob = connector.as_principal("bob")
    assert [w.name for w in bob.list_workspaces()] == ["a", "c"]
    # Outsiders get the same answer as for a missing workspace: names do not leak.
    with pytest.raises(NotFound) as hidden:
        bob.get_workspace("b")
    with pytest.raises(NotFound) as missing:
        bob.get_workspace("zzz")
    # ...but the workspaces the caller does see are named, for a misspelt one
    assert hidden.value.message == "workspace 'b' not found (you can see: a, c)"
    assert missing.value.message == "workspace 'zzz' not found (you can see: a, c)"
