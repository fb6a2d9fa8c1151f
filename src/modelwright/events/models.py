"""Requests and responses of the event operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field

from modelwright.core.ints import INT32_MAX
from modelwright.core.models import Request
from modelwright.core.names import Name

__all__ = ["EventInfo", "EventsQuery"]


class EventsQuery(Request):
    since: Annotated[int, Field(ge=0, le=INT32_MAX)] = Field(
        default=0, description="Only events with a greater id."
    )
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
