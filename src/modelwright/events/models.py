"""Requests and responses of the event operations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from modelwright.core.models import Request
from modelwright.core.names import Name

__all__ = ["EventInfo", "EventsQuery"]


class EventsQuery(Request):
    since: int = Field(default=0, ge=0, description="Only events with a greater id.")
    kind: str | None = Field(
        default=None,
        max_length=64,
        description="A kind ('alias.moved') or a prefix ending in '*' ('job.*').",
    )
    workspace: Name | None = None
    environment: Name | None = None
    limit: int = Field(default=100, ge=1, le=10_000)


class EventInfo(BaseModel):
    id: int
    at: datetime
    kind: str
    workspace: str = Field(description="Empty for a platform-wide event.")
    environment: str
    subject: str
    principal: str
    data: dict[str, Any]
