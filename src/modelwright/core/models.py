"""Base shapes shared by every operation's request and response models."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Empty", "IdempotencyKey", "Idempotent", "Request"]

IdempotencyKey = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9_-]{16,64}$",
        description="Made by the client once per write (a UUID), and sent again with every "
        "retry of it: the platform applies the write once and answers a repeat as it answered "
        "the first. Keys are the caller's own and kept for a day (a setting).",
    ),
]


class Request(BaseModel):
    """Requests reject unknown fields, so a typo is an error rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Empty(Request):
    pass


class Idempotent(Request):
    """The request of a write that clients send again when they cannot know whether it was
    applied (a timeout, a dropped connection, a database that was unavailable): with an
    ``idempotency_key`` it is applied once however often it arrives."""

    idempotency_key: IdempotencyKey | None = None
