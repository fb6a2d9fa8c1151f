"""Keyset pagination over SQLAlchemy selects.

A page token is base64url of compact JSON holding the sort values of the last row
returned (and a fingerprint of the ordering it belongs to), so the next page is one
indexed query that starts after that row: no OFFSET scan, and rows inserted between two
requests neither repeat nor shift a row out of the walk.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import ColumnElement, Select, and_, false, or_, true
from sqlalchemy.orm import Session

from modelwright.core.models import storable_problem
from modelwright.errors import InvalidInput

__all__ = ["Key", "Paging", "after", "decode_token", "encode_token", "keyset_page"]


class Paging(Protocol):
    """What a request asks of a page (``PageParams`` has both)."""

    @property
    def limit(self) -> int: ...

    @property
    def page_token(self) -> str | None: ...


@dataclass(frozen=True)
class Key:
    """One sort key of a keyset walk. The last key of a walk must be unique (a row id).

    A nullable key sorts its NULLs last in either direction, as people expect."""

    column: Any
    descending: bool = False
    nullable: bool = False

    def order(self) -> Any:
        ordered = self.column.desc() if self.descending else self.column.asc()
        return ordered.nulls_last() if self.nullable else ordered

    def equal(self, value: Any) -> ColumnElement[bool]:
        if value is None:
            return self.column.is_(None)  # type: ignore[no-any-return]
        return self.column == value  # type: ignore[no-any-return]

    def beyond(self, value: Any) -> ColumnElement[bool]:
        """Rows this key puts strictly after ``value``."""
        if value is None:  # NULLs are last: nothing sorts after them
            return false()
        past = self.column < value if self.descending else self.column > value
        return or_(past, self.column.is_(None)) if self.nullable else past


def _fingerprint(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:12]


def _encode_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, float) and not math.isfinite(value):  # JSON has no NaN or inf
        return {"f": repr(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        return datetime.fromisoformat(value["t"]) if "t" in value else float(value["f"])
    return value


def encode_token(scope: str, values: Sequence[Any]) -> str:
    body = {"s": _fingerprint(scope), "k": [_encode_value(v) for v in values]}
    return base64.urlsafe_b64encode(orjson.dumps(body)).rstrip(b"=").decode()


def _bad_token(why: str) -> InvalidInput:
    return InvalidInput(
        f"page_token: {why}; pass the next_page_token of the previous page of this same list",
        details={"field": "page_token"},
    )


def decode_token(token: str, scope: str, count: int) -> list[Any]:
    """The sort values ``token`` holds, refused unless it was made by the same walk."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = orjson.loads(raw)
        values = [_decode_value(v) for v in body["k"]]
        scoped = body["s"]
    except (binascii.Error, ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise _bad_token("not a page token") from None
    if scoped != _fingerprint(scope) or len(values) != count:
        raise _bad_token("a token of another list or ordering")
    if not all(_plain(v) for v in values):
        raise _bad_token("not a page token")
    return values


def _plain(value: Any) -> bool:
    """Whether a database can compare ``value`` as it is: tokens come from callers, so a made-up
    one must be refused here rather than by the driver."""
    if isinstance(value, int) and not isinstance(value, bool):
        return -(2**63) <= value < 2**63
    if isinstance(value, str | datetime):
        return storable_problem(value) is None
    return value is None or isinstance(value, bool | float)


def _fits(key: Key, value: Any) -> bool:
    """Whether ``value`` has the Python type of ``key``'s column (when it has a known one)."""
    kind = key.column.type
    try:
        wanted = kind.python_type
        if wanted is object:  # a decorated type: what it stores
            wanted = kind.impl.python_type
    except (AttributeError, NotImplementedError):
        return True
    if value is None or isinstance(value, wanted):
        return True
    return wanted is float and isinstance(value, int) and not isinstance(value, bool)


def after(keys: Sequence[Key], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows the ordering ``keys`` puts after the row whose sort values are ``values``."""
    branches = []
    for i, key in enumerate(keys):
        same = [k.equal(v) for k, v in zip(keys[:i], values[:i], strict=True)]
        branches.append(and_(true(), *same, key.beyond(values[i])))
    return or_(false(), *branches)


def keyset_page(
    session: Session,
    query: Select[Any],
    keys: Sequence[Key],
    req: Paging,
    *,
    scope: str,
    visible: Callable[[Any], bool] | None = None,
    unique: bool = False,
) -> tuple[list[Any], str | None]:
    """The page ``req`` asks for (its ``limit`` and ``page_token``) of ``query`` ordered by
    ``keys``: its rows and the token of the next page.

    Filters in ``query`` run in SQL before the limit. ``visible`` is for what only Python can
    decide (membership, per-environment grants): rows it drops are skipped and reading goes
    on until the page is full or rows run out, so a page is never short while more visible
    rows exist. A row is the selected entity when ``query`` selects one, else a tuple.
    """
    width = len(query.column_descriptions)
    ordered = query.order_by(None).order_by(*(k.order() for k in keys))
    ordered = ordered.add_columns(*(k.column for k in keys))
    limit, token = req.limit, req.page_token
    cursor = decode_token(token, scope, len(keys)) if token is not None else None
    if cursor is not None and not all(_fits(k, v) for k, v in zip(keys, cursor, strict=True)):
        raise _bad_token("not a page token")
    out: list[Any] = []
    end: list[Any] = []  # the sort values of the last row on the page
    while True:
        q = ordered if cursor is None else ordered.where(after(keys, cursor))
        result = session.execute(q.limit(limit + 1))
        batch = list(result.unique() if unique else result)
        for row in batch:
            item = row[0] if width == 1 else tuple(row[:width])
            cursor = list(row[width:])
            if visible is not None and not visible(item):
                continue
            if len(out) == limit:  # a row beyond the page: there is a next one
                return out, encode_token(scope, end)
            out.append(item)
            end = cursor
        if len(batch) <= limit:
            return out, None
