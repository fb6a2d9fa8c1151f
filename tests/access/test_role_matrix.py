"""Every built-in role × every action × every place, as ``check_access`` answers it.

A fresh principal gets one role in ONE environment (``w/staging``). For each action and each
place, ``check_access`` must say exactly what the role's action set says there, and deny
everywhere else: in the other environments, for the whole workspace, in another workspace and
for the whole platform. Runs through both backends and both databases.
"""

from __future__ import annotations

import pytest
from tests.access._matrix import GRANTED, PLACES, make_world
from tests.conftest import Connector

from modelwright.core.actions import BUILTIN_ROLES, Action

# An admin asking about the subject must get the same answers (a sample of places is enough:
# the same code path evaluates the subject's grants).
ADMIN_ASKS = {GRANTED, ("w", "prod"), ("other", "staging")}


@pytest.mark.parametrize("role", list(BUILTIN_ROLES))
def test_role_grants_exactly_its_actions_in_exactly_its_environment(
    role: str, connector: Connector
) -> None:
    admin = connector.local_admin
    make_world(admin)
    admin.grant("subject", role, *GRANTED)
    me = connector.as_principal("subject")
    remote_admin = connector.admin()
    actions = set(BUILTIN_ROLES[role][1])

    wrong: list[str] = []
    for action in Action:
        for ws, env in PLACES:
            expected = action in actions and (ws, env) == GRANTED
            mine = me.check_access(action, ws, env)
            decisions = [("self", mine)]
            if (ws, env) in ADMIN_ASKS:
                theirs = remote_admin.check_access(action, ws, env, principal="subject")
                decisions.append(("admin", theirs))
            for who, decision in decisions:
                if decision.allowed != expected or decision.principal != "subject":
                    wrong.append(
                        f"{role}: {action.value} in {ws}/{env} asked by {who}: "
                        f"allowed={decision.allowed}, expected {expected}"
                    )
            if expected and f"role '{role}'" not in mine.reason:
                wrong.append(f"{role}: reason does not name the role: {mine.reason!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("workspace", "environment"),
    [("w", "*"), ("*", "*")],
    ids=["workspace-wide", "platform-wide"],
)
def test_wider_grants_cover_every_environment_they_name(
    workspace: str, environment: str, connector: Connector
) -> None:
    admin = connector.local_admin
    make_world(admin)
    admin.grant("subject", "data-scientist", workspace, environment)
    admin.create_environment("w", "qa")  # created after the grant: still covered
    me = connector.as_principal("subject")
    actions = set(BUILTIN_ROLES["data-scientist"][1])

    wrong = []
    for action in Action:
        for ws, env in [*PLACES, ("w", "qa")]:
            covered = workspace in ("*", ws) and environment in ("*", env)
            expected = action in actions and covered
            got = me.check_access(action, ws, env).allowed
            if got != expected:
                wrong.append(f"{action.value} in {ws}/{env}: allowed={got}, expected {expected}")
    assert not wrong, "\n".join(wrong)
    expected_ws = ["other", "w"] if workspace == "*" else ["w"]
    assert [w.name for w in me.list_workspaces()] == expected_ws
