"""Find rows by name or raise ``NotFound`` naming what was asked for."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelwright.core.context import Context
from modelwright.errors import NotFound
from modelwright.store import schema

__all__ = [
    "check_acting",
    "check_scope",
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


# A caller who sees more workspaces than this is told the first ones.
_MAX_LISTED = 20


def _no_workspace(ctx: Context, name: str) -> NotFound:
    """The one answer for a workspace that is missing, or that the caller may not see."""
    names = ctx.session.scalars(select(schema.Workspace.name).order_by(schema.Workspace.name))
    visible = [n for n in names if ctx.is_member(n)]
    listed = ", ".join(visible[:_MAX_LISTED]) + (", ..." if len(visible) > _MAX_LISTED else "")
    return NotFound(
        f"workspace '{name}' not found (you can see: {listed or 'none'})",
        details={"workspace": name, "visible": visible[:_MAX_LISTED]},
    )


def get_workspace(ctx: Context, name: str) -> schema.Workspace:
    row = ctx.session.scalar(select(schema.Workspace).where(schema.Workspace.name == name))
    if row is None:
        raise _no_workspace(ctx, name)
    return row


def require_member(ctx: Context, workspace: str) -> None:
    """Outsiders get the answer a missing workspace gets, so names do not leak to them."""
    if not ctx.is_member(workspace):
        raise _no_workspace(ctx, workspace)


def visible_workspace(ctx: Context, name: str) -> schema.Workspace:
    """The workspace ``name``, if it exists and the caller is a member of it."""
    row = get_workspace(ctx, name)
    require_member(ctx, row.name)
    return row


def get_environment(ctx: Context, workspace: str, name: str) -> schema.Environment:
    """The environment ``name`` of ``workspace``, or ``NotFound`` naming the environments it
    has: the one check of a workspace and environment a request names, filters included."""
    ws = get_workspace(ctx, workspace)
    for env in ws.environments:
        if env.name == name:
            return env
    known = ", ".join(e.name for e in ws.environments) or "none"
    raise NotFound(
        f"environment '{name}' not found in workspace '{workspace}' (it has: {known})",
        details={"workspace": workspace, "environment": name},
    )


def check_scope(ctx: Context, workspace: str | None, environment: str | None) -> None:
    """A list's filter names a workspace (and environment) that exist and that the caller
    sees: a misspelt name is an error naming what exists, never an empty list."""
    if workspace is not None:
        require_member(ctx, workspace)
        if environment is None:
            get_workspace(ctx, workspace)
        else:
            get_environment(ctx, workspace, environment)
        return
    if environment is None:
        return
    # No workspace named: the environment is one of some workspace the caller sees.
    rows = ctx.session.execute(
        select(schema.Workspace.name, schema.Environment.name).join(
            schema.Environment, schema.Environment.workspace_id == schema.Workspace.id
        )
    ).all()
    known = sorted({env for ws, env in rows if ctx.is_member(ws)})
    if environment not in known:
        raise NotFound(
            f"environment '{environment}' not found in any workspace you can see "
            f"(they have: {', '.join(known) or 'none'})",
            details={"environment": environment},
        )


def check_acting(ctx: Context, acting: str, workspace: object) -> None:
    """The environment the caller declares it acts in (``acting``) exists: ``workspace/env``
    anywhere, a bare ``env`` in ``workspace`` (the request's, when it names one)."""
    ws, _, env = acting.rpartition("/")
    ws = ws or (workspace if isinstance(workspace, str) else "")
    if ws:
        check_scope(ctx, ws, env)
