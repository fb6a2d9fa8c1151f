"""Setup as code: plan, dry run, apply (idempotent, all or nothing) and export (round trip)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Connector, pg_scratch_database, pg_url

from modelwright import InvalidInput, PermissionDenied
from modelwright.client import Client, LocalTransport
from modelwright.core.actions import Action
from modelwright.core.platform import Platform
from modelwright.settings import Settings
from modelwright.setup.models import Plan
from modelwright.setup.yaml_io import dump_spec, load_spec

Unchanged = Callable[[], AbstractContextManager[None]]

SPEC: dict[str, Any] = {
    "apiVersion": "modelwright/v1",
    "roles": [
        {"name": "auditor", "description": "reads the trail", "actions": ["audit.read"]},
    ],
    "principals": [
        {"name": "alice", "display_name": "Alice", "email": "alice@example.com"},
        {"name": "bob"},
        {"name": "ci-bot", "kind": "service"},
    ],
    "grants": [{"principal": "alice", "role": "auditor"}],
    "workspaces": [
        {
            "name": "churn",
            "description": "customer churn",
            "environments": [
                {
                    "name": "dev",
                    "datastores": [
                        {"name": "scratch", "url": "file:///tmp/scratch", "region": "eu"}
                    ],
                },
                {"name": "staging", "description": "pre-production"},
                {
                    "name": "prod",
                    "production": True,
                    "datastores": [
                        {
                            "name": "lake",
                            "url": "s3://lake/churn",
                            "classification": "production",
                            "region": "eu-west-1",
                        }
                    ],
                },
            ],
            "grants": [
                {"principal": "bob", "role": "data-scientist", "environments": ["dev", "staging"]},
                {"principal": "ci-bot", "role": "ml-engineer", "environments": "*"},
                {"principal": "alice", "role": "approver", "environments": ["prod"]},
            ],
        },
        {"name": "fraud"},
    ],
}
# role 1, principals 3, platform grant 1; churn: ws 1, envs 3, datastores 2, grants 2+1+1;
# fraud: ws 1, envs 3.
CREATES = 1 + 3 + 1 + 1 + 3 + 2 + 4 + 1 + 3


def _summary(plan: Plan) -> dict[str, int]:
    return {a: plan.count(a) for a in ("create", "update", "unchanged", "remove")}


def _changes(plan: Plan) -> set[tuple[str, str, str]]:
    return {(c.action, c.kind, c.key) for c in plan.changes if c.action != "unchanged"}


def test_dry_run_only_plans(client: Client, unchanged: Unchanged) -> None:
    with unchanged():
        plan = client.apply(SPEC, dry_run=True)
    assert plan.applied is False
    assert _summary(plan) == {"create": CREATES, "update": 0, "unchanged": 0, "remove": 0}
    assert ("create", "workspace", "churn") in _changes(plan)
    assert ("create", "datastore", "churn/prod/lake") in _changes(plan)
    assert ("create", "grant", "bob:data-scientist@churn/dev") in _changes(plan)
    assert ("create", "grant", "alice:auditor@*/*") in _changes(plan)
    assert [w.name for w in client.list_workspaces()] == []


def test_apply_creates_everything_then_changes_nothing(connector: Connector) -> None:
    client = connector.admin()
    first = client.apply(SPEC)
    assert first.applied is True
    assert _summary(first) == {"create": CREATES, "update": 0, "unchanged": 0, "remove": 0}

    churn = client.get_workspace("churn")
    assert churn.description == "customer churn"
    assert [(e.name, e.position, e.production) for e in churn.environments] == [
        ("dev", 0, False),
        ("staging", 1, False),
        ("prod", 2, True),
    ]
    assert [
        (d.name, d.url, d.classification, d.region) for d in churn.environments[2].datastores
    ] == [("lake", "s3://lake/churn", "production", "eu-west-1")]
    assert [e.name for e in client.get_workspace("fraud").environments] == [
        "dev",
        "staging",
        "prod",
    ]
    principals = {p.name: p for p in client.list_principals()}
    assert principals["alice"].email == "alice@example.com"
    assert principals["ci-bot"].kind == "service"
    assert {(g.role, g.workspace, g.environment) for g in client.list_grants(principal="bob")} == {
        ("data-scientist", "churn", "dev"),
        ("data-scientist", "churn", "staging"),
    }
    assert client.check_access(Action.AUDIT_READ, "fraud", "dev", principal="alice").allowed
    assert client.check_access(Action.ENDPOINT_DEPLOY, "churn", "prod", principal="ci-bot").allowed
    assert not client.check_access(Action.DATA_READ, "churn", "prod", principal="bob").allowed

    # Applying the same spec again changes nothing and records nothing.
    events = len(connector.local_admin.audit_events(limit=10_000))
    state = client.export()
    second = client.apply(SPEC)
    assert second.applied is True
    assert second.has_changes is False
    assert _summary(second) == {"create": 0, "update": 0, "unchanged": CREATES, "remove": 0}
    assert client.export() == state
    assert len(connector.local_admin.audit_events(limit=10_000)) == events


def test_apply_writes_one_audit_event_per_change(connector: Connector) -> None:
    client = connector.admin()
    plan = client.apply(SPEC)
    events = connector.local_admin.audit_events(limit=10_000)
    applied = [
        e
        for e in events
        if e.target.split("/")[0]
        in {"role", "principal", "workspace", "environment", "datastore", "grant"}
    ]
    assert len(applied) == CREATES == len(plan.changes)
    lake = next(e for e in events if e.target == "datastore/churn/prod/lake")
    assert (lake.action, lake.workspace, lake.environment, lake.before) == (
        "datastore.create",
        "churn",
        "prod",
        None,
    )
    assert lake.after is not None
    assert lake.after["url"] == "s3://lake/churn"
    grant = next(e for e in events if e.target == "grant/ci-bot:ml-engineer@churn/*")
    assert (grant.workspace, grant.environment) == ("churn", "")
    platform_grant = next(e for e in events if e.target == "grant/alice:auditor@*/*")
    assert (platform_grant.workspace, platform_grant.environment) == ("", "")


def test_updates_are_planned_with_their_differences(connector: Connector) -> None:
    client = connector.admin()
    client.apply(SPEC)
    changed = copy.deepcopy(SPEC)
    changed["roles"][0]["actions"] = ["audit.read", "data.read"]
    changed["principals"][0]["display_name"] = "Alice A."
    churn = changed["workspaces"][0]
    churn["description"] = "churn v2"
    churn["environments"][1]["description"] = "pre-prod"
    churn["environments"][0]["datastores"][0]["url"] = "file:///tmp/scratch2"

    plan = client.apply(changed, dry_run=True)
    updates = {(c.kind, c.key): c.changes for c in plan.changes if c.action == "update"}
    assert updates == {
        ("role", "auditor"): {
            "actions": [["audit.read"], ["audit.read", "data.read"]],
        },
        ("principal", "alice"): {"display_name": ["Alice", "Alice A."]},
        ("workspace", "churn"): {"description": ["customer churn", "churn v2"]},
        ("environment", "churn/staging"): {"description": ["pre-production", "pre-prod"]},
        ("datastore", "churn/dev/scratch"): {
            "url": ["file:///tmp/scratch", "file:///tmp/scratch2"]
        },
    }
    assert _summary(plan)["create"] == 0
    assert _summary(plan)["remove"] == 0

    client.apply(changed)
    assert client.get_workspace("churn").environments[1].description == "pre-prod"
    assert client.check_access(Action.DATA_READ, "fraud", "dev", principal="alice").allowed
    update = connector.local_admin.audit_events(action="datastore.update")[0]
    assert update.before is not None
    assert update.after is not None
    assert (update.before["url"], update.after["url"]) == (
        "file:///tmp/scratch",
        "file:///tmp/scratch2",
    )
    assert client.apply(changed).has_changes is False


def test_reordering_environments_updates_the_promotion_path(client: Client) -> None:
    client.apply({"workspaces": [{"name": "w", "environments": [{"name": "a"}, {"name": "b"}]}]})
    plan = client.apply(
        {"workspaces": [{"name": "w", "environments": [{"name": "b"}, {"name": "a"}]}]}
    )
    assert {(c.key, str(c.changes)) for c in plan.changes if c.action == "update"} == {
        ("w/a", str({"position": [0, 1]})),
        ("w/b", str({"position": [1, 0]})),
    }
    assert [e.name for e in client.get_workspace("w").environments] == ["b", "a"]


def test_inside_a_declared_workspace_what_is_not_declared_is_removed(
    connector: Connector,
) -> None:
    client = connector.admin()
    client.apply(SPEC)
    # Things created by hand inside the managed workspace ...
    client.create_datastore("churn", "staging", "manual", "memory://manual")
    client.create_principal("dave")
    client.grant("dave", "viewer", "churn", "dev")
    smaller = copy.deepcopy(SPEC)
    churn = smaller["workspaces"][0]
    churn["environments"] = churn["environments"][:2]  # drop prod (and its datastore)
    churn["grants"] = churn["grants"][:1]
    plan = client.apply(smaller, dry_run=True)
    assert _changes(plan) == {
        ("remove", "environment", "churn/prod"),
        ("remove", "datastore", "churn/prod/lake"),
        ("remove", "datastore", "churn/staging/manual"),
        ("remove", "grant", "ci-bot:ml-engineer@churn/*"),
        ("remove", "grant", "alice:approver@churn/prod"),
        ("remove", "grant", "dave:viewer@churn/dev"),
    }
    client.apply(smaller)
    assert [e.name for e in client.get_workspace("churn").environments] == ["dev", "staging"]
    assert client.list_grants(principal="dave") == []
    # ... while principals and other workspaces outside the file stay without --prune.
    assert "dave" in {p.name for p in client.list_principals()}
    assert client.apply(smaller).has_changes is False


def test_prune_removes_what_the_file_does_not_declare(connector: Connector) -> None:
    client = connector.admin()
    client.apply(SPEC)
    client.create_workspace("legacy")
    client.create_principal("dave")
    client.create_role("old-role", [Action.DATA_READ])
    client.grant("dave", "old-role", "legacy", "dev")
    client.grant("bob", "viewer", "legacy")

    without_prune = client.apply(SPEC, dry_run=True)
    assert not without_prune.has_changes

    plan = client.apply(SPEC, prune=True)
    assert _changes(plan) == {
        ("remove", "workspace", "legacy"),
        ("remove", "environment", "legacy/dev"),
        ("remove", "environment", "legacy/staging"),
        ("remove", "environment", "legacy/prod"),
        ("remove", "principal", "dave"),
        ("remove", "role", "old-role"),
        ("remove", "grant", "dave:old-role@legacy/dev"),
        ("remove", "grant", "bob:viewer@legacy/*"),
    }
    assert [w.name for w in client.list_workspaces()] == ["churn", "fraud"]
    assert "dave" not in {p.name for p in client.list_principals()}
    # No grant survives its workspace: a new workspace of that name gives no old access.
    assert client.list_grants(workspace="legacy") == []
    client.create_workspace("legacy")
    assert not client.check_access(Action.DATA_READ, "legacy", "dev", principal="bob").allowed
    # The applying principal and its platform grant are never pruned.
    assert "admin" in {p.name for p in client.list_principals()}
    assert client.whoami().grants[0].workspace == "*"


def test_bad_specs_are_refused_and_change_nothing(client: Client, unchanged: Unchanged) -> None:
    client.apply(SPEC)

    def variant(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        spec = copy.deepcopy(SPEC)
        edit(spec)
        return spec

    bad: list[tuple[dict[str, Any], str]] = [
        (
            variant(
                lambda s: s["workspaces"][0]["grants"].append(
                    {"principal": "ghost", "role": "viewer"}
                )
            ),
            "workspaces[0].grants[3].principal: principal 'ghost' is neither declared",
        ),
        (
            variant(lambda s: s["grants"].append({"principal": "bob", "role": "no-such-role"})),
            "grants[1].role: role 'no-such-role' is neither declared",
        ),
        (
            variant(
                lambda s: s["workspaces"][0]["environments"][0]["datastores"].append(
                    {"name": "prod-copy", "url": "s3://lake/x", "classification": "production"}
                )
            ),
            "classified production and cannot be attached to non-production environment 'dev'",
        ),
        (
            variant(lambda s: s["workspaces"][0]["grants"][0].update(environments=["qa"])),
            "names environment 'qa', which workspace 'churn' does not declare",
        ),
        (
            variant(lambda s: s["roles"].append({"name": "admin", "actions": ["data.read"]})),
            "built-in role",
        ),
        (
            variant(lambda s: s["workspaces"].append({"name": "fraud"})),
            "workspace 'fraud' is declared twice",
        ),
        (
            variant(lambda s: s["principals"].append({"name": "bob"})),
            "principal 'bob' is declared twice",
        ),
        (variant(lambda s: s.update(apiVersion="modelwright/v0")), "apiVersion"),
        (variant(lambda s: s.update(extra_field=1)), "extra_field"),
        (variant(lambda s: s["workspaces"][0].update(name="../x")), "workspaces[0].name"),
        (variant(lambda s: s["workspaces"][1].update(environments=[])), "environments"),
        (variant(lambda s: s["roles"][0].update(actions=["fly"])), "roles[0].actions[0]"),
    ]
    for spec, message in bad:
        with unchanged(), pytest.raises(InvalidInput) as exc:
            client.apply(spec)
        assert message in exc.value.message, exc.value.message


def test_apply_and_export_need_a_platform_admin(connector: Connector, unchanged: Unchanged) -> None:
    admin = connector.local_admin
    admin.create_workspace("w")
    admin.create_principal("wsadmin")
    admin.grant("wsadmin", "admin", "w")
    me = connector.as_principal("wsadmin")
    with unchanged():
        for call in (lambda: me.apply(SPEC), lambda: me.apply(SPEC, dry_run=True), me.export):
            with pytest.raises(PermissionDenied, match="platform admin"):
                call()


def test_export_round_trips_through_apply_and_yaml(connector: Connector) -> None:
    client = connector.admin()
    client.apply(SPEC)
    client.create_environment("fraud", "canary", production=True)
    client.create_datastore("fraud", "canary", "c", "memory://c", classification="production")
    client.grant("bob", "viewer", "fraud", "canary")
    client.grant("bob", "viewer", "fraud")

    exported = client.export()
    again = client.apply(exported, prune=True, dry_run=True)
    assert again.has_changes is False, _changes(again)
    text = dump_spec(exported)
    assert text.startswith("apiVersion: modelwright/v1\n")
    reloaded = load_spec(text)
    assert reloaded == exported
    assert client.apply(reloaded, prune=True).has_changes is False
    # Workspaces keep their promotion path order through the round trip.
    assert [e.name for e in reloaded.workspaces[1].environments] == [
        "dev",
        "staging",
        "prod",
        "canary",
    ]


@pytest.fixture
def fresh_settings(db: str, tmp_path: Path) -> Iterator[Settings]:
    """A second, empty platform on the same kind of database."""
    roots = [str(tmp_path), "/tmp/scratch", "/tmp/scratch2", "memory://", "s3://"]
    if db == "postgres":
        with pg_scratch_database("mw_fresh") as name:
            yield Settings(
                home=tmp_path / "fresh",
                db_url=pg_url(name),
                require_auth=False,
                datastore_roots=roots,
            )
    else:
        yield Settings(
            home=tmp_path / "fresh", db_url=None, require_auth=False, datastore_roots=roots
        )


def test_export_rebuilds_the_same_platform_elsewhere(
    connector: Connector, fresh_settings: Settings
) -> None:
    client = connector.admin()
    client.apply(SPEC)
    exported = client.export()
    with Client(LocalTransport(Platform(fresh_settings))) as fresh:
        plan = fresh.apply(load_spec(dump_spec(exported)))
        # Only what the fresh platform lacked is created; its seeded admin is unchanged.
        assert plan.count("create") == CREATES
        assert {c.key for c in plan.changes if c.action == "unchanged"} == {
            "admin",
            "admin:admin@*/*",
        }
        assert fresh.export() == exported
