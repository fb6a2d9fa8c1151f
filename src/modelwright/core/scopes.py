"""Which rows of scoped tables (a workspace and an environment per row) a caller may see.

Rows with an empty workspace belong to the whole platform (a job a schedule started without
a workspace, an event about no workspace): platform admins see them.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, true
from sqlalchemy.orm import InstrumentedAttribute

from modelwright.core.actions import ALL, Action
from modelwright.core.context import Context
from modelwright.core.lookup import check_scope

__all__ = ["check_scope_filter", "may_see", "visible"]


def visible(
    ctx: Context,
    action: Action,
    workspace: InstrumentedAttribute[str],
    environment: InstrumentedAttribute[str],
) -> ColumnElement[bool]:
    """SQL equivalent of ``may_see(ctx, action, row.workspace, row.environment)``."""
    clauses: list[ColumnElement[bool]] = []
    if ctx.is_platform_admin():
        clauses.append(workspace == "")
    for g in ctx.grants():
        if action.value not in g.actions:
            continue
        ws_ok = workspace != "" if g.workspace == ALL else workspace == g.workspace
        env_ok = true() if g.environment == ALL else environment == g.environment
        clauses.append(and_(ws_ok, env_ok))
    return or_(false(), *clauses)


def may_see(ctx: Context, action: Action, workspace: str, environment: str) -> bool:
    if workspace == "":
        return ctx.is_platform_admin()
    return ctx.allowed(action, workspace, environment)


def check_scope_filter(
    ctx: Context, action: Action, workspace: str | None, environment: str | None
) -> None:
    """A filter naming a workspace (and environment) that does not exist, or that the
    caller may not read, is refused rather than answered with nothing, so "none there" is
    never a mistaken answer."""
    check_scope(ctx, workspace, environment)
    if workspace is not None and environment is not None:
        ctx.require(action, workspace, environment)
