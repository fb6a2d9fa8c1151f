"""Platform state flattened to ``{(kind, key): attributes}``, from a spec or from the database.

Both sides flatten the same way, so the plan is a plain dictionary diff. Identity fields are
part of the attributes so that applying a change needs nothing but the change itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelwright.core.actions import ALL, BUILTIN_ROLES
from modelwright.setup.models import Kind
from modelwright.setup.spec import PlatformSpec
from modelwright.store import schema

State = dict[tuple[Kind, str], dict[str, Any]]

# Creation order; removal runs in reverse.
KINDS: tuple[Kind, ...] = ("role", "principal", "workspace", "environment", "datastore", "grant")


def grant_key(principal: str, role: str, workspace: str, environment: str) -> str:
    return f"{principal}:{role}@{workspace}/{environment}"


def _grant(principal: str, role: str, workspace: str, environment: str) -> dict[str, Any]:
    return {
        "principal": principal,
        "role": role,
        "workspace": workspace,
        "environment": environment,
    }


def desired_state(spec: PlatformSpec) -> State:
    state: State = {}
    for r in spec.roles:
        state["role", r.name] = {
            "name": r.name,
            "description": r.description,
            "actions": sorted({a.value for a in r.actions}),
        }
    for p in spec.principals:
        state["principal", p.name] = p.model_dump()
    for g in spec.grants:
        state["grant", grant_key(g.principal, g.role, ALL, ALL)] = _grant(
            g.principal, g.role, ALL, ALL
        )
    for w in spec.workspaces:
        state["workspace", w.name] = {"name": w.name, "description": w.description}
        for pos, e in enumerate(w.environments):
            state["environment", f"{w.name}/{e.name}"] = {
                "workspace": w.name,
                "name": e.name,
                "position": pos,
                "production": e.production,
                "description": e.description,
                "promotion": None if e.promotion is None else e.promotion.model_dump(mode="json"),
            }
            for d in e.datastores:
                state["datastore", f"{w.name}/{e.name}/{d.name}"] = {
                    "workspace": w.name,
                    "environment": e.name,
                    **d.model_dump(),
                }
        for wg in w.grants:
            envs = [ALL] if wg.environments == "*" else wg.environments
            for env in envs:
                state["grant", grant_key(wg.principal, wg.role, w.name, env)] = _grant(
                    wg.principal, wg.role, w.name, env
                )
    return state


def current_state(session: Session) -> State:
    state: State = {}
    for r in session.scalars(select(schema.Role).where(schema.Role.builtin.is_(False))):
        state["role", r.name] = {
            "name": r.name,
            "description": r.description,
            "actions": sorted(r.actions),
        }
    for p in session.scalars(select(schema.Principal)):
        state["principal", p.name] = _attrs(p, "name", "kind", "display_name", "email")
    for ws in session.scalars(select(schema.Workspace)):
        state["workspace", ws.name] = {"name": ws.name, "description": ws.description}
        for e in ws.environments:
            state["environment", f"{ws.name}/{e.name}"] = {
                "workspace": ws.name,
                **_attrs(e, "name", "position", "production", "description"),
                "promotion": e.promotion_policy,
            }
            for d in e.datastores:
                state["datastore", f"{ws.name}/{e.name}/{d.name}"] = {
                    "workspace": ws.name,
                    "environment": e.name,
                    **_attrs(d, "name", "url", "classification", "region"),
                }
    for g in session.scalars(select(schema.Grant)):
        key = grant_key(g.principal.name, g.role.name, g.workspace, g.environment)
        state["grant", key] = _grant(g.principal.name, g.role.name, g.workspace, g.environment)
    return state


def _attrs(row: object, *names: str) -> dict[str, Any]:
    return {n: getattr(row, n) for n in names}


def builtin_role_names() -> set[str]:
    return set(BUILTIN_ROLES)
