"""Event operations: ``events since N``, in id order.

Events become visible in id order (``core.events``), so a follower that asks for the events
after the last id it saw misses none. A caller sees the events of environments where it may
``data.read``; platform-wide events (no workspace) are seen by platform admins.
"""

from __future__ import annotations

from operator import eq

from sqlalchemy import select

from modelwright.core.actions import Action
from modelwright.core.context import Context
from modelwright.core.filters import where_given
from modelwright.core.models import from_row
from modelwright.core.scopes import check_scope_filter, visible
from modelwright.events import models as m
from modelwright.store import schema

__all__ = ["list_events"]

E = schema.Event


def list_events(ctx: Context, req: m.EventsQuery) -> list[m.EventInfo]:
    check_scope_filter(ctx, Action.DATA_READ, req.workspace, req.environment)
    query = (
        select(E)
        .where(E.id > req.since, visible(ctx, Action.DATA_READ, E.workspace, E.environment))
        .order_by(E.id)
        .limit(req.limit)
    )
    if req.kind:
        if req.kind.endswith("*"):
            query = query.where(E.kind.startswith(req.kind[:-1], autoescape=True))
        else:
            query = query.where(E.kind == req.kind)
    query = where_given(
        query,
        (E.workspace, eq, req.workspace),
        (E.environment, eq, req.environment),
    )
    return [from_row(m.EventInfo, e) for e in ctx.session.scalars(query)]
