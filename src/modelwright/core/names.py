"""Validation of the names users give things (workspaces, environments, principals, ...)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema

from modelwright.errors import InvalidInput

__all__ = [
    "MAX_NAME",
    "NAME_PATTERN",
    "AliasName",
    "Name",
    "ScopeName",
    "check_name",
    "unique_names",
]

MAX_NAME = 64
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# The same rule as one JSON Schema pattern (no look-ahead, which not every client's regex
# engine has): a dot is followed by another allowed character or ends the name.
NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.[A-Za-z0-9_-])*\.?$"
_NAME_BODY = NAME_PATTERN[1:-1]


def check_name(value: str, field: str = "name") -> str:
    """Return ``value`` when it is a safe name, else raise ``InvalidInput`` naming the field.

    Names end up in URLs, file paths and YAML, so they are letters, digits, ``.``, ``_`` and
    ``-``, start with a letter or digit, never contain ``..``, and are at most 64 characters.
    """
    problem = _problem(value)
    if problem:
        raise InvalidInput(f"{field}: {problem}", details={"field": field, "value": value})
    return value


def _problem(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if len(value) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters (got {len(value)})"
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        return f"must not contain control characters (got {value!r})"
    if not _NAME.fullmatch(value) or ".." in value:
        return (
            "must be letters, digits, '.', '_' or '-', start with a letter or digit and "
            f"not contain '..' (got {value!r})"
        )
    return None


def _pydantic_check(value: str) -> str:
    problem = _problem(value)
    if problem:
        # A ValueError becomes a pydantic validation error that carries the field's path.
        raise ValueError(problem)
    return value


# The OpenAPI document states the rule, so generated clients and fuzzers send valid names.
Name = Annotated[
    str,
    AfterValidator(_pydantic_check),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": NAME_PATTERN}
    ),
]


# An alias is what people type in URIs (models:/churn@champion): lowercase, so that
# "Champion" and "champion" can never be two aliases of one model.
_ALIAS = re.compile(r"[a-z][a-z0-9_-]*")
ALIAS_PATTERN = r"^[a-z][a-z0-9_-]*$"


def _alias_check(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    if len(value) > MAX_NAME:
        raise ValueError(f"must be at most {MAX_NAME} characters (got {len(value)})")
    if not _ALIAS.fullmatch(value):
        hint = f"; use {value.lower()!r}" if _ALIAS.fullmatch(value.lower()) else ""
        raise ValueError(
            "must be lowercase letters, digits, '_' or '-', starting with a letter "
            f"(got {value!r}{hint})"
        )
    return value


AliasName = Annotated[
    str,
    AfterValidator(_alias_check),
    WithJsonSchema(
        {"type": "string", "minLength": 1, "maxLength": MAX_NAME, "pattern": ALIAS_PATTERN}
    ),
]


def _scope_check(value: str) -> str:
    return value if value == "*" else _pydantic_check(value)


# A name, or "*" for every workspace / environment (in grants and access checks).
ScopeName = Annotated[
    str,
    AfterValidator(_scope_check),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_NAME,
            "pattern": rf"^(?:\*|{_NAME_BODY})$",
            "description": "A name, or '*' for every one.",
        }
    ),
]


def unique_names(names: list[str], what: str) -> None:
    """For a model validator: a ``ValueError`` (pydantic names the field) at a repeated name."""
    seen: set[str] = set()
    for n in names:
        if n in seen:
            raise ValueError(f"{what} '{n}' is declared twice")
        seen.add(n)
