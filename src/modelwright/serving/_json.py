"""Words for JSON values, shared by the error messages of the serving protocols."""

from __future__ import annotations

from typing import Any

__all__ = ["json_kind"]

_KINDS: tuple[tuple[type | tuple[type, ...], str], ...] = (
    (type(None), "null"),
    (bool, "a boolean"),
    ((int, float), "a number"),
    (str, "a string"),
    (list, "a list"),
    (dict, "an object"),
)


def json_kind(value: Any) -> str:
    """What a JSON value is, in words ("a list", "null")."""
    return next((word for t, word in _KINDS if isinstance(value, t)), type(value).__name__)
