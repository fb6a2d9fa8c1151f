"""Find rows by name or raise ``NotFound`` naming what was asked for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelwright.core.context import Context
from modelwright.errors import NotFound
from modelwright.store import schema

__all__ = [
    "get_environment",
    "get_principal",
    "get_role",
    "get_workspace",
    "require_member",
    "visible_workspace",
]


def get_principal(session: Session, name: str) -> schema.Principal:
    row = session.scalar(select(schema.Principal).where(schema.Principal.name == name))
    if row is None:
        raise NotFound(f"principal '{name}' not found", details={"principal": name})
    return row


def get_role(session: Session, name: str) -> schema.Role:
    row = session.scalar(select(schema.Role).where(schema.Role.name == name))
    if row is None:
        raise NotFound(f"role '{name}' not found", details={"role": name})
    return row


def _no_workspace(name: str) -> NotFound:
    return NotFound(f"workspace '{name}' not found", details={"workspace": name})


def get_workspace(session: Session, name: str) -> schema.Workspace:
    row = session.scalar(select(schema.Workspace).where(schema.Workspace.name == name))
    if row is None:
        raise _no_workspace(name)
    return row


def require_member(ctx: Context, workspace: str) -> None:
    """Outsiders get the answer a missing workspace gets, so names do not leak to them."""
    if not ctx.is_member(workspace):
        raise _no_workspace(workspace)


def visible_workspace(ctx: Context, name: str) -> schema.Workspace:
    """The workspace ``name``, if it exists and the caller is a member of it."""
    row = get_workspace(ctx.session, name)
    require_member(ctx, row.name)
    return row


def get_environment(session: Session, workspace: str, name: str) -> schema.Environment:
    ws = get_workspace(session, workspace)
    for env in ws.environments:
        if env.name == name:
            return env
    known = ", ".join(e.name for e in ws.environments) or "none"
    raise NotFound(
        f"environment '{name}' not found in workspace '{workspace}' (it has: {known})",
        details={"workspace": workspace, "environment": name},
    )
