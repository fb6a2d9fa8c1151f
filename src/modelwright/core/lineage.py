"""Lineage edges are written by the mutations that create the relation, in their transaction."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from modelwright.core.context import Context, utcnow
from modelwright.store import schema

__all__ = ["Edge", "add_edges"]

Edge = tuple[str, str, str, str, str]  # source kind, source id, target kind, target id, relation


def add_edges(ctx: Context, workspace_id: int, edges: Iterable[Edge]) -> None:
    """Insert the edges that do not exist yet (recording twice is harmless)."""
    s = ctx.session
    for sk, sid, tk, tid, rel in dict.fromkeys(edges):
        found = s.scalar(
            select(schema.LineageEdge.id).where(
                schema.LineageEdge.source_kind == sk,
                schema.LineageEdge.source_id == sid,
                schema.LineageEdge.target_kind == tk,
                schema.LineageEdge.target_id == tid,
                schema.LineageEdge.relation == rel,
            )
        )
        if found is None:
            s.add(
                schema.LineageEdge(
                    workspace_id=workspace_id,
                    source_kind=sk,
                    source_id=sid,
                    target_kind=tk,
                    target_id=tid,
                    relation=rel,
                    created_at=utcnow(),
                )
            )
    s.flush()
