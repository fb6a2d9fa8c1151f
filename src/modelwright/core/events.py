"""Appending domain events, in the transaction of the change they describe.

Readers follow the events by id (``events since N``, triggers' cursors), so an event must
never become visible after one with a higher id. PostgreSQL hands out ids at insert but
makes rows visible at commit, in any order; a transaction-scoped advisory lock taken just
before the insert makes event writers commit in id order. SQLite has one writer at a time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from modelwright.store import schema

__all__ = ["EVENT_KINDS", "append_event"]

# Any stable 64-bit number: the advisory lock that orders event writers.
_EVENTS_LOCK = 0x6D77_6576_656E_7473

EVENT_KINDS = (
    "model_version.registered",
    "model_version.deleted",
    "alias.moved",
    "dataset_version.registered",
    "dataset_version.deleted",
    "endpoint.changed",
    "job.state_changed",
)


def append_event(
    session: Session,
    kind: str,
    *,
    at: Any,
    workspace: str = "",
    environment: str = "",
    subject: str = "",
    principal: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _EVENTS_LOCK})
    session.add(
        schema.Event(
            at=at,
            kind=kind,
            workspace=workspace,
            environment=environment,
            subject=subject,
            principal=principal,
            data=data or {},
        )
    )
    # Flush now, under the lock, so the id is taken while this transaction holds it.
    session.flush()
