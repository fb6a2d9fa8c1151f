"""The optional filters of list requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Select

__all__ = ["where_given"]

Q = TypeVar("Q", bound=Select[Any])


def where_given(query: Q, *filters: tuple[Any, Callable[[Any, Any], Any], object]) -> Q:
    """``query`` narrowed by each ``(column, operator, value)`` whose request value was given
    (is not None), e.g. ``(Job.kind, operator.eq, req.kind)``: a filter left out matches
    everything. The condition is built only for a given value (SQL has no ``<= NULL``)."""
    return query.where(*(op(column, value) for column, op, value in filters if value is not None))
