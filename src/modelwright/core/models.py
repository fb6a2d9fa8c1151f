"""Base shapes shared by every operation's request and response models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["Empty", "Request"]


class Request(BaseModel):
    """Requests reject unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Empty(Request):
    pass
