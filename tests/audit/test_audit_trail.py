"""The audit trail: one event per mutation (who, what, where, target, before/after, when),
none for reads or refused requests, and queries filtered by principal, action and time."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from tests.conftest import Connector

from modelwright import InvalidInput, PermissionDenied
from modelwright.client import Client
from modelwright.core.actions import Action


def test_every_mutation_writes_one_event(connector: Connector) -> None:
    client = connector.admin()
    check = connector.local_admin  # reads the trail without adding to it
    token_ids: dict[str, int] = {}

    def make_token() -> Any:
        created = client.create_token(principal="bob", name="ci")
        token_ids["bob"] = created.id
        return created

    # (mutation, action, workspace, environment, target, has before, has after)
    steps: list[tuple[Callable[[], Any], str, str, str, str, bool, bool]] = [
        (
            lambda: client.create_workspace("w"),
            "workspace.create",
            "w",
            "",
            "workspace/w",
            False,
            True,
        ),
        (
            lambda: client.create_environment("w", "qa"),
            "environment.create",
            "w",
            "qa",
            "environment/w/qa",
            False,
            True,
        ),
        (
            lambda: client.create_datastore("w", "dev", "raw", "memory://raw", region="eu"),
            "datastore.create",
            "w",
            "dev",
            "datastore/w/dev/raw",
            False,
            True,
        ),
        (
            lambda: client.delete_datastore("w", "dev", "raw"),
            "datastore.delete",
            "w",
            "dev",
            "datastore/w/dev/raw",
            True,
            False,
        ),
        (
            lambda: client.create_principal("bob"),
            "principal.create",
            "",
            "",
            "principal/bob",
            False,
            True,
        ),
        (
            lambda: client.create_role("reader", [Action.DATA_READ]),
            "role.create",
            "",
            "",
            "role/reader",
            False,
            True,
        ),
        (
            lambda: client.grant("bob", "reader", "w", "dev"),
            "grant.create",
            "w",
            "dev",
            "grant/bob/reader",
            False,
            True,
        ),
        (
            lambda: client.revoke_grant("bob", "reader", "w", "dev"),
            "grant.delete",
            "w",
            "dev",
            "grant/bob/reader",
            True,
            False,
        ),
        (make_token, "token.create", "", "", "token/", False, True),
        (
            lambda: client.revoke_token(token_ids["bob"]),
            "token.revoke",
            "",
            "",
            "token/",
            True,
            True,
        ),
        (
            lambda: client.delete_principal("bob"),
            "principal.delete",
            "",
            "",
            "principal/bob",
            True,
            False,
        ),
        (
            lambda: client.delete_workspace("w"),
            "workspace.delete",
            "w",
            "",
            "workspace/w",
            True,
            False,
        ),
    ]
    before_all = datetime.now(UTC)
    for mutate, action, workspace, environment, target, has_before, has_after in steps:
        count = len(check.audit_events(limit=10_000))
        mutate()
        events = check.audit_events(limit=10_000)
        assert len(events) == count + 1, f"{action}: expected exactly one new event"
        e = events[0]
        assert (e.principal, e.action, e.workspace, e.environment) == (
            "admin",
            action,
            workspace,
            environment,
        )
        assert e.target.startswith(target), (action, e.target)
        assert (e.before is not None, e.after is not None) == (has_before, has_after), action
        assert before_all - timedelta(seconds=5) <= e.at <= datetime.now(UTC) + timedelta(seconds=5)
        assert e.at.tzinfo is not None

    # Before and after carry the state: e.g. the revoked token before and after revocation.
    revoke = check.audit_events(action="token.revoke")[0]
    assert revoke.before is not None
    assert revoke.after is not None
    assert revoke.before["revoked_at"] is None
    assert revoke.after["revoked_at"] is not None
    created = check.audit_events(action="datastore.create")[0].after
    assert created == {
        "name": "raw",
        "url": "memory://raw",
        "classification": "non-production",
        "region": "eu",
    }


def test_token_secrets_never_reach_the_trail(connector: Connector) -> None:
    client = connector.admin()
    secret = client.create_token(name="mine").secret
    event = connector.local_admin.audit_events(action="token.create")[0]
    assert event.after is not None
    assert "secret" not in event.after
    assert secret not in json.dumps(event.model_dump(mode="json"))
    assert secret[:12] == event.after["prefix"]


def test_reads_and_dry_runs_write_no_events(connector: Connector) -> None:
    client = connector.admin()
    client.create_workspace("w")
    client.create_principal("bob")
    count = len(connector.local_admin.audit_events(limit=10_000))
    client.list_workspaces()
    client.get_workspace("w")
    client.whoami()
    client.list_principals()
    client.list_roles()
    client.list_grants()
    client.list_tokens()
    client.check_access(Action.DATA_READ, "w", "dev", principal="bob")
    client.audit_events()
    client.export()
    client.apply({"workspaces": [{"name": "new"}]}, dry_run=True)
    assert len(connector.local_admin.audit_events(limit=10_000)) == count


def test_the_acting_principal_is_recorded(connector: Connector) -> None:
    admin = connector.local_admin
    admin.create_workspace("w")
    admin.create_principal("ops")
    admin.grant("ops", "admin", "w", "staging")
    ops = connector.as_principal("ops")
    ops.create_datastore("w", "staging", "feats", "memory://feats")
    event = admin.audit_events(limit=1)[0]
    assert (event.principal, event.action, event.workspace, event.environment) == (
        "ops",
        "datastore.create",
        "w",
        "staging",
    )


def _populate(client: Client) -> None:
    client.create_workspace("a")
    client.create_workspace("b")
    client.create_principal("bob")
    client.grant("bob", "viewer", "a", "dev")
    client.grant("bob", "viewer", "b", "staging")
    client.create_datastore("a", "dev", "d1", "memory://1")
    client.create_datastore("b", "prod", "d2", "memory://2")
    client.revoke_grant("bob", "viewer", "b", "staging")


def test_filters_by_principal_action_workspace_and_limit(connector: Connector) -> None:
    admin = connector.local_admin
    _populate(admin)
    admin.grant("bob", "admin", "a")
    bob = connector.as_principal("bob")
    bob.create_datastore("a", "staging", "by-bob", "memory://bob")
    client = connector.admin()

    everything = client.audit_events(limit=10_000)
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)

    by_bob = client.audit_events(principal="bob")
    assert [e.target for e in by_bob] == ["datastore/a/staging/by-bob"]
    assert {e.principal for e in client.audit_events(principal="admin", limit=10_000)} == {"admin"}
    assert client.audit_events(principal="nobody") == []

    exact = client.audit_events(action="grant.create", limit=10_000)
    assert [(e.workspace, e.environment) for e in exact] == [
        ("a", ""),
        ("b", "staging"),
        ("a", "dev"),
    ]
    prefix = client.audit_events(action="grant.*", limit=10_000)
    assert [e.action for e in prefix] == [
        "grant.create",
        "grant.delete",
        "grant.create",
        "grant.create",
    ]
    assert {e.action for e in client.audit_events(action="datastore.*")} == {"datastore.create"}
    # The prefix is a prefix, not a pattern: SQL wildcards in it match literally.
    assert client.audit_events(action="grant%") == []
    assert client.audit_events(action="gr_nt.*") == []

    in_b = client.audit_events(workspace="b", limit=10_000)
    assert {e.workspace for e in in_b} == {"b"}
    assert len(in_b) == 4  # workspace, grant, datastore, revoke

    assert len(client.audit_events(limit=2)) == 2
    with pytest.raises(InvalidInput, match="limit"):
        client.audit_events(limit=0)


def test_filters_by_time_range(connector: Connector) -> None:
    admin = connector.local_admin
    _populate(admin)
    client = connector.admin()
    events = list(reversed(client.audit_events(limit=10_000)))  # oldest first
    assert len(events) >= 5
    middle = events[len(events) // 2]

    since = client.audit_events(since=middle.at, limit=10_000)
    assert {e.id for e in since} == {e.id for e in events if e.at >= middle.at}
    assert middle.id in {e.id for e in since}
    until = client.audit_events(until=middle.at, limit=10_000)
    assert {e.id for e in until} == {e.id for e in events if e.at < middle.at}
    assert middle.id not in {e.id for e in until}
    window = client.audit_events(since=events[1].at, until=events[-1].at, limit=10_000)
    assert {e.id for e in window} == {e.id for e in events if events[1].at <= e.at < events[-1].at}

    future = datetime.now(UTC) + timedelta(days=1)
    assert client.audit_events(since=future) == []
    assert len(client.audit_events(until=future, limit=10_000)) == len(events)
    # Another offset names the same instant.
    plus_two = middle.at.astimezone(timezone(timedelta(hours=2)))
    assert {e.id for e in client.audit_events(since=plus_two, limit=10_000)} == {
        e.id for e in since
    }
    with pytest.raises(InvalidInput, match="since: give a timezone"):
        client.audit_events(since=datetime(2020, 1, 1))  # naive on purpose
    with pytest.raises(InvalidInput, match="until: give a timezone"):
        client.audit_events(until=datetime(2020, 1, 1))


def test_reading_the_trail_needs_audit_read(connector: Connector) -> None:
    admin = connector.local_admin
    _populate(admin)
    for role in ("viewer", "data-scientist", "ml-engineer"):
        admin.create_principal(f"p-{role}")
        admin.grant(f"p-{role}", role, "a")
        with pytest.raises(PermissionDenied, match=r"audit\.read"):
            connector.as_principal(f"p-{role}").audit_events()


def test_an_approver_sees_only_the_events_of_its_scope(connector: Connector) -> None:
    admin = connector.local_admin
    _populate(admin)
    admin.create_principal("auditor-a")
    admin.grant("auditor-a", "approver", "a")
    admin.create_principal("auditor-b-prod")
    admin.grant("auditor-b-prod", "approver", "b", "prod")
    admin.create_principal("auditor-all")
    admin.grant("auditor-all", "approver", "*")

    everything = admin.audit_events(limit=10_000)
    seen_a = connector.as_principal("auditor-a").audit_events(limit=10_000)
    assert seen_a, "the approver of workspace a sees its events"
    assert {e.workspace for e in seen_a} == {"a"}
    assert {e.id for e in seen_a} == {e.id for e in everything if e.workspace == "a"}

    seen_b_prod = connector.as_principal("auditor-b-prod").audit_events(limit=10_000)
    assert [(e.workspace, e.environment, e.target) for e in seen_b_prod] == [
        ("b", "prod", "grant/auditor-b-prod/approver"),
        ("b", "prod", "datastore/b/prod/d2"),
    ]
    # Filters narrow the scope further; they never widen it.
    assert connector.as_principal("auditor-a").audit_events(workspace="b") == []

    # A platform-wide auditor sees everything, including platform-level events.
    seen_all = connector.as_principal("auditor-all").audit_events(limit=10_000)
    assert {e.id for e in seen_all} >= {e.id for e in everything}
    assert "principal.create" in {e.action for e in seen_all}
