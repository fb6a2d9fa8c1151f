"""Audit operations. Events are written by ``Context.audit`` inside each mutation's transaction."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select, true

from modelwright.audit import models as m
from modelwright.core.actions import ALL, Action
from modelwright.core.context import Context
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.models import from_row
from modelwright.core.pages import Page
from modelwright.errors import InvalidInput, PermissionDenied
from modelwright.store import schema

E = schema.AuditEvent


def list_events(ctx: Context, req: m.AuditQuery) -> Page[m.AuditEventInfo]:
    """Newest first; only the events in scopes where the caller holds ``audit.read``."""
    for field, value in (("since", req.since), ("until", req.until)):
        if value is not None and value.tzinfo is None:
            raise InvalidInput(
                f"{field}: give a timezone (e.g. a trailing Z for UTC)", details={"field": field}
            )
    query = select(E).where(_visible(ctx))
    if req.principal:
        query = query.where(E.principal == req.principal)
    if req.action:
        if req.action.endswith("*"):
            query = query.where(E.action.startswith(req.action[:-1], autoescape=True))
        else:
            query = query.where(E.action == req.action)
    if req.workspace:
        query = query.where(E.workspace == req.workspace)
    if req.since:
        query = query.where(E.at >= req.since)
    if req.until:
        query = query.where(E.at < req.until)
    events, token = keyset_page(
        ctx.session,
        query,
        [Key(E.at, descending=True), Key(E.id, descending=True)],
        req,
        scope="audit",
    )
    items = [from_row(m.AuditEventInfo, e) for e in events]
    return Page(items=items, next_page_token=token)


def _visible(ctx: Context) -> ColumnElement[bool]:
    """SQL filter equivalent to ``ctx.allowed(AUDIT_READ, event.workspace, event.environment)``."""
    scopes = [g for g in ctx.grants() if Action.AUDIT_READ.value in g.actions]
    if not scopes:
        raise PermissionDenied(
            f"principal '{ctx.caller.name}' may not audit.read anywhere: no grant gives a role with that action",
            details={"principal": ctx.caller.name, "action": Action.AUDIT_READ.value},
        )
    clauses: list[ColumnElement[bool]] = []
    for g in scopes:
        if g.workspace == ALL:
            return true()
        env_ok = true() if g.environment == ALL else E.environment == g.environment
        clauses.append(and_(E.workspace == g.workspace, env_ok))
    return or_(false(), *clauses)
