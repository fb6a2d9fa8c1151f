"""Lineage edges are written by the mutations that create the relation, in their transaction."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import Table, and_, delete, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from modelwright.core.context import Context, utcnow
from modelwright.store import schema

__all__ = ["Edge", "add_edges", "remove_edges"]

Edge = tuple[str, str, str, str, str]  # source kind, source id, target kind, target id, relation

_TABLE = cast(Table, schema.LineageEdge.__table__)
_COLUMNS = ("source_kind", "source_id", "target_kind", "target_id", "relation")
# Rows per statement of the portable path: five bound values a row keeps each SELECT well
# under SQLite's limit of 32,766 host parameters.
_CHUNK = 1000


def add_edges(ctx: Context, workspace_id: int, edges: Iterable[Edge]) -> None:
    """Insert the edges that do not exist yet (recording twice is harmless).

    One statement for the whole batch: ``INSERT … ON CONFLICT DO NOTHING`` on the unique
    (source, target, relation) constraint, which also makes two transactions recording the
    same edge at once safe. Other databases take one SELECT and one INSERT per chunk.
    """
    unique = list(dict.fromkeys(edges))
    if not unique:
        return
    s = ctx.session
    now = utcnow()
    rows = [
        {"workspace_id": workspace_id, **dict(zip(_COLUMNS, e, strict=True)), "created_at": now}
        for e in unique
    ]
    dialect = s.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        module: Any = sqlite if dialect == "sqlite" else postgresql
        s.execute(module.insert(_TABLE).on_conflict_do_nothing(index_elements=list(_COLUMNS)), rows)
        return
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        cols = [_TABLE.c[c] for c in _COLUMNS]
        found = set(
            s.execute(
                select(*cols).where(
                    or_(*(and_(*(c == v for c, v in zip(cols, e, strict=True))) for e in chunk))
                )
            ).tuples()
        )
        new = [
            r for e, r in zip(chunk, rows[start : start + _CHUNK], strict=True) if e not in found
        ]
        if new:
            s.execute(insert(_TABLE), new)


def remove_edges(ctx: Context, kind: str, ids: Iterable[str]) -> None:
    """Remove every edge from or to the nodes ``kind``/``ids``: they are being deleted."""
    unique = list(dict.fromkeys(ids))
    E = schema.LineageEdge
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        ctx.session.execute(
            delete(E).where(
                or_(
                    (E.source_kind == kind) & E.source_id.in_(chunk),
                    (E.target_kind == kind) & E.target_id.in_(chunk),
                )
            )
        )
