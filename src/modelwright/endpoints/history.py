"""What an endpoint served, and when: read back from the audit trail.

Every change of an endpoint (create, deploy, traffic, shadow, undeploy, delete) is audited in
the transaction that makes it, with the state it leaves. The audit trail is therefore the
endpoint's history, and "what served which share at T" is the last state recorded up to T,
also for an endpoint deleted since.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from modelwright.core.context import Context
from modelwright.core.keyset import Key, keyset_page
from modelwright.core.pages import Page
from modelwright.endpoints import models as m
from modelwright.endpoints.service import environment_for_endpoints
from modelwright.errors import NotFound
from modelwright.store import schema

__all__ = ["endpoint_history"]

A = schema.AuditEvent


def endpoint_history(ctx: Context, req: m.EndpointHistoryRequest) -> Page[m.EndpointChange]:
    """Newest first; with ``at``, the one change in force at that time (none before the
    endpoint existed)."""
    env = environment_for_endpoints(ctx, req.workspace, req.environment)
    trail = (
        A.workspace == req.workspace,
        A.environment == env.name,
        A.target == f"endpoint:{req.endpoint}",
        A.action.like("endpoint.%"),
    )
    query = select(A).where(*trail)
    # With ``at``: the last change up to then is the state in force.
    if req.at is not None:
        query = query.where(A.at <= req.at)
    rows, token = keyset_page(
        ctx.session,
        query,
        [Key(A.at, descending=True), Key(A.id, descending=True)],
        req if req.at is None else req.model_copy(update={"limit": 1}),
        scope="endpoint_history",
    )
    if req.at is not None:
        token = None
    changes = [_change(row) for row in rows]
    existed = not changes and ctx.session.scalar(select(A.id).where(*trail).limit(1))
    if (req.at is not None or req.page_token is not None) and existed:
        return Page(items=[])  # it did not exist yet at that time, or the history ends here
    if not changes:
        raise NotFound(
            f"endpoint '{req.endpoint}' not found in {req.workspace}/{env.name}: it has no "
            "recorded history",
            details={"endpoint": req.endpoint},
        )
    return Page(items=changes, next_page_token=token)


def _change(row: schema.AuditEvent) -> m.EndpointChange:
    state: dict[str, Any] = row.after or {}
    return m.EndpointChange(
        at=row.at,
        by=row.principal,
        change=row.action.removeprefix("endpoint."),
        exists=row.after is not None,
        deployments={
            name: m.ServedShare.model_validate(d)
            for name, d in (state.get("deployments") or {}).items()
        },
        shadow=state.get("shadow"),
        shadow_percent=int(state.get("shadow_percent") or 0),
    )
