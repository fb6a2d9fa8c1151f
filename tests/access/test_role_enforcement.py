"""Every built-in role, enforced by the operations themselves in its one environment only.

Where an operation checks an action (``access.manage``: datastores, grants, asking about other
principals; ``audit.read``: the audit trail; membership: seeing a workspace), the operation
must be allowed exactly where ``check_access`` says so, and the refused ones must change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from tests.access._matrix import ENV_PLACES, GRANTED, PLACES, make_world
from tests.conftest import Connector

from modelwright import NotFound, PermissionDenied
from modelwright.core.actions import BUILTIN_ROLES, Action

Unchanged = Callable[[], AbstractContextManager[None]]


def _outcome(call: Callable[[], Any]) -> str:
    try:
        call()
    except PermissionDenied:
        return "denied"
    return "allowed"


@pytest.mark.parametrize("role", list(BUILTIN_ROLES))
def test_operations_enforce_the_role_in_its_environment_only(
    role: str, connector: Connector, unchanged: Unchanged
) -> None:
    admin = connector.local_admin
    make_world(admin)
    admin.grant("subject", role, *GRANTED)
    me = connector.as_principal("subject")
    actions = set(BUILTIN_ROLES[role][1])
    manages = Action.ACCESS_MANAGE in actions

    wrong: list[str] = []
    cases: list[tuple[str, Callable[[], Any], bool]] = []

    def expect(what: str, call: Callable[[], Any], allowed: bool) -> None:
        cases.append((what, call, allowed))

    # access.manage: attaching datastores, granting and revoking roles, asking about others.
    for ws, env in ENV_PLACES:
        here = manages and (ws, env) == GRANTED
        expect(
            f"create_datastore {ws}/{env}",
            lambda ws=ws, env=env: me.create_datastore(ws, env, "mine", "memory://mine"),
            here,
        )
        expect(
            f"delete_datastore {ws}/{env}",
            lambda ws=ws, env=env: me.delete_datastore(ws, env, f"seed-{env}"),
            here,
        )
    for ws, env in PLACES:
        here = manages and (ws, env) == GRANTED
        expect(
            f"grant {ws}/{env}", lambda ws=ws, env=env: me.grant("peer", "viewer", ws, env), here
        )
        expect(
            f"check_access for another principal in {ws}/{env}",
            lambda ws=ws, env=env: me.check_access(Action.DATA_READ, ws, env, principal="peer"),
            here,
        )
        if here:
            expect(
                f"revoke_grant {ws}/{env}",
                lambda ws=ws, env=env: me.revoke_grant("peer", "viewer", ws, env),
                True,
            )
    # A grant in the environment made by the admin, to test revoking where it is not allowed.
    admin.grant("peer", "viewer", "w", "prod")
    expect("revoke_grant w/prod", lambda: me.revoke_grant("peer", "viewer", "w", "prod"), False)

    # Platform-level and workspace-wide operations need more than one environment's grant.
    expect("create_environment w", lambda: me.create_environment("w", "qa"), False)
    expect("create_workspace", lambda: me.create_workspace("mine"), False)
    expect("delete_workspace", lambda: me.delete_workspace("other"), False)
    expect("create_principal", lambda: me.create_principal("newcomer"), False)
    expect("delete_principal", lambda: me.delete_principal("peer"), False)
    expect("create_role", lambda: me.create_role("custom", [Action.DATA_READ]), False)
    expect("apply", lambda: me.apply({"workspaces": []}), False)
    expect("export", me.export, False)
    expect("create_token for another principal", lambda: me.create_token(principal="peer"), False)
    if Action.AUDIT_READ not in actions:
        expect("audit_events", me.audit_events, False)

    # Every refused request together leaves the state exactly as it was ...
    with unchanged():
        for what, call, allowed in cases:
            if not allowed and _outcome(call) != "denied":
                wrong.append(f"{role}: {what}: allowed, expected denied")
    # ... and the allowed ones then work, in order.
    for what, call, allowed in cases:
        if allowed and _outcome(call) != "allowed":
            wrong.append(f"{role}: {what}: denied, expected allowed")
    assert len(cases) >= 30

    # audit.read: only the events of the one environment.
    if Action.AUDIT_READ in actions:
        events = me.audit_events(limit=10_000)
        places = {(e.workspace, e.environment) for e in events}
        if places != {GRANTED}:
            wrong.append(f"{role}: audit_events shows events of {sorted(places)}")
        targets = {e.target for e in events}
        if "datastore/w/staging/seed-staging" not in targets:
            wrong.append(f"{role}: audit_events misses the event in w/staging")

    # Any grant in a workspace makes its metadata visible, and only that workspace's.
    if [w.name for w in me.list_workspaces()] != ["w"]:
        wrong.append(f"{role}: list_workspaces shows {[w.name for w in me.list_workspaces()]}")
    assert me.get_workspace("w").name == "w"
    with pytest.raises(NotFound):
        me.get_workspace("other")
    who = me.whoami()
    assert who.principal == "subject"
    assert [(g.role, g.workspace, g.environment) for g in who.grants] == [(role, *GRANTED)]

    assert not wrong, "\n".join(wrong)
