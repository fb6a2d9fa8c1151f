"""Requests and responses of the audit operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from modelwright.core.models import Request
from modelwright.core.pages import PageParams


class AuditQuery(PageParams, Request):
    principal: str | None = None
    action: str | None = Field(
        default=None,
        description="An action ('grant.create') or a prefix ending in '*' ('grant.*').",
    )
    workspace: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = Field(default=100, ge=1, le=10_000)


class AuditEventInfo(BaseModel):
    id: int
    at: datetime
    principal: str
    action: str
    workspace: str
    environment: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
