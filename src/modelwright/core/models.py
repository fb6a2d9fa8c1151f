"""Base shapes shared by every operation's request and response models."""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

__all__ = [
    "Compact",
    "Empty",
    "IdempotencyKey",
    "Idempotent",
    "Request",
    "from_row",
    "storable_problem",
]

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
    """Requests reject unknown fields, so a typo is an error rather than silently ignored.

    They also reject values that pass their types but that a database cannot store or
    compare, anywhere inside a field (dict keys and nested lists included), so the answer
    is a 400 naming the field on SQLite and PostgreSQL alike, not a driver error."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        # Fields of numbers only (metric values, steps) are skipped: they can be long.
        if info.field_name and _field_may_hold_text(cls, info.field_name):
            problem = storable_problem(value)
            if problem:
                raise ValueError(problem)
        return value


@functools.cache
def _field_may_hold_text(model: type[BaseModel], field: str) -> bool:
    return _may_hold_text(model.model_fields[field].annotation)


def _may_hold_text(annotation: Any) -> bool:
    """Whether values of this type may contain a string or a time (unknown types may)."""
    if annotation in (int, float, bool, type(None)):
        return False
    if isinstance(annotation, type) and issubclass(annotation, Request | bytes):
        return False  # a nested request checks its own fields; bytes are not text
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _may_hold_text(args[0])
    if typing.get_origin(annotation) in (typing.Literal,):
        return any(isinstance(a, str) for a in args)
    if args and typing.get_origin(annotation) is not None:
        return any(_may_hold_text(a) for a in args)
    return True


def storable_problem(value: Any) -> str | None:
    """Why ``value`` cannot be stored: a NUL character (PostgreSQL text cannot hold one) or a
    time that is out of range once converted to UTC (year 1 with a positive offset)."""
    if isinstance(value, str):
        return "must not contain NUL (\\x00) characters" if "\x00" in value else None
    if isinstance(value, datetime):
        return _time_problem(value)
    children: Any
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        children = value
    else:
        # Nested requests check their own fields; numbers are bounded by their types.
        return None
    return next((p for p in map(storable_problem, children) if p), None)


def _time_problem(value: datetime) -> str | None:
    if value.tzinfo is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            return "must be a time between years 1 and 9999 once converted to UTC"
    return None


class Empty(Request):
    pass


class Idempotent(Request):
    """The request of a write that clients send again when they cannot know whether it was
    applied (a timeout, a dropped connection, a database that was unavailable): with an
    ``idempotency_key`` it is applied once however often it arrives."""

    idempotency_key: IdempotencyKey | None = None


class Compact(BaseModel):
    """A response whose ``repr`` (and rich's rendering, and ``str``) is one line of the
    fields that name it: in a notebook a dataset version is not pages of profile, schema
    and file list, which stay one attribute away (``version.profile``)."""

    shown: ClassVar[tuple[str, ...]] = ()

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name in self.shown:
            yield name, getattr(self, name)


M = TypeVar("M", bound=BaseModel)


def from_row(model: type[M], row: object, /, **computed: Any) -> M:
    """``model`` with each field read from ``row``'s attribute of the same name, but for the
    fields in ``computed``: those a row does not hold as they are shown (a name through a
    relation, a value worked out)."""
    values = {name: getattr(row, name) for name in model.model_fields if name not in computed}
    return model.model_validate({**values, **computed})
