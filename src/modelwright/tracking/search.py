"""The run search language, compiled to SQL.

    metrics.auc > 0.8 and params.depth = '5' and tags.team != 'x' and status = 'finished'

Clauses are joined by ``and`` (case-insensitive). An identifier is ``metrics.KEY``,
``params.KEY``, ``tags.KEY`` or an attribute (``attributes.status``, or bare ``status``:
``status``, ``name``, ``created_by``, ``environment``, ``experiment``, ``run_id``,
``parent_id``, ``started_at``, ``ended_at``). Keys with spaces or odd characters go in backticks:
``metrics.`val loss` < 1``. Metrics compare numerically against their latest value;
params, tags and attributes compare as strings; ``like`` / ``ilike`` take SQL patterns and
``in`` takes a parenthesised list.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, false, func, or_, select
from sqlalchemy.orm import aliased

from modelwright.core.keyset import Key
from modelwright.core.models import storable_problem
from modelwright.errors import InvalidInput
from modelwright.store import schema

__all__ = [
    "MAX_CLAUSES",
    "Clause",
    "apply_filter",
    "order_keys",
    "parse_columns",
    "parse_filter",
    "status_column",
]

# Enough for any search a person writes; bounds the work one request can ask of the database.
MAX_CLAUSES = 50

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|inf|nan)(?![\w.]))
      | (?P<op>!=|>=|<=|=|>|<|\(|\)|,)
      | (?P<ident>(?:[A-Za-z_]+\.)?(?:`[^`]+`|[A-Za-z0-9_\-./:]+))
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_ATTRIBUTES = {
    "status": schema.Run.status,
    "name": schema.Run.name,
    "created_by": schema.Run.created_by,
    "run_id": schema.Run.id,
    "id": schema.Run.id,
    "parent_id": schema.Run.parent_id,
    "started_at": schema.Run.started_at,
    "ended_at": schema.Run.ended_at,
}
_OPS = {"=", "!=", ">", ">=", "<", "<=", "like", "ilike", "in", "not in"}


@dataclass(frozen=True)
class Clause:
    kind: str  # metrics | params | tags | attributes
    key: str
    op: str
    value: Any


def _bad(message: str) -> InvalidInput:
    return InvalidInput(f"filter: {message}", details={"field": "filter"})


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise _bad(f"cannot read {text[pos:].strip()[:40]!r} at character {pos + 1}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def _identifier(raw: str) -> tuple[str, str]:
    prefix, dot, rest = raw.partition(".")
    if dot and prefix.lower() in {
        "metrics",
        "metric",
        "params",
        "param",
        "tags",
        "tag",
        "attributes",
        "attribute",
        "attr",
        "run",
    }:
        kind = {
            "metric": "metrics",
            "param": "params",
            "tag": "tags",
            "attribute": "attributes",
            "attr": "attributes",
            "run": "attributes",
        }.get(prefix.lower(), prefix.lower())
        key = rest
    else:
        kind, key = "attributes", raw
    key = key.strip("`")
    if not key:
        raise _bad(f"{raw!r} names no key")
    if kind == "attributes" and key not in {*_ATTRIBUTES, "environment", "experiment"}:
        known = ", ".join(sorted({*_ATTRIBUTES, "environment", "experiment"}))
        raise _bad(
            f"unknown attribute {key!r}; use metrics.KEY, params.KEY, tags.KEY or one of: {known}"
        )
    return kind, key


def _literal(kind: str, value: str) -> Any:
    if kind == "string":
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return float(value)


def parse_filter(text: str) -> list[Clause]:
    if not text.strip():
        return []
    toks = _tokens(text)
    # Words are tokens of their own ('and' inside a quoted value is part of a string).
    count = 1 + sum(1 for kind, tok in toks if kind == "ident" and tok.lower() == "and")
    if count > MAX_CLAUSES:
        raise _bad(f"at most {MAX_CLAUSES} clauses may be joined by 'and' (got {count})")
    clauses: list[Clause] = []
    i = 0

    def take() -> tuple[str, str]:
        nonlocal i
        if i >= len(toks):
            raise _bad("ends too early: expected more after " + repr(toks[-1][1]))
        tok = toks[i]
        i += 1
        return tok

    while True:
        kind_tok, raw = take()
        if kind_tok != "ident":
            raise _bad(f"expected a name such as metrics.auc, got {raw!r}")
        kind, key = _identifier(raw)
        op_kind, op = take()
        op = op.lower()
        if op_kind == "ident" and op == "not":
            _, nxt = take()
            op = "not " + nxt.lower()
        if op not in _OPS:
            raise _bad(
                f"expected a comparison (=, !=, >, >=, <, <=, like, ilike, in) after {raw!r}, got {op!r}"
            )
        value = _value(op, raw, take)
        clauses.append(_check(Clause(kind, key, op, value), raw))
        if i == len(toks):
            return clauses
        _, conj = take()
        if conj.lower() != "and":
            raise _bad(f"expected 'and' between clauses, got {conj!r} (only 'and' is supported)")


def _value(op: str, raw: str, take: Callable[[], tuple[str, str]]) -> Any:
    if op not in {"in", "not in"}:
        vk, vv = take()
        if vk not in {"string", "number"}:
            raise _bad(f"expected a quoted string or a number after {raw} {op}, got {vv!r}")
        return _literal(vk, vv)
    _, paren = take()
    if paren != "(":
        raise _bad(f"expected '(' after {op}")
    values: list[Any] = []
    while True:
        vk, vv = take()
        if vk not in {"string", "number"}:
            raise _bad(f"expected a value in the {op} list, got {vv!r}")
        values.append(_literal(vk, vv))
        _, sep = take()
        if sep == ")":
            return values
        if sep != ",":
            raise _bad(f"expected ',' or ')' in the {op} list, got {sep!r}")


def _check(c: Clause, raw: str) -> Clause:
    if c.kind == "metrics":
        if c.op in {"like", "ilike"}:
            raise _bad(f"{raw}: metrics compare with =, !=, >, >=, <, <=, in")
        vals = c.value if isinstance(c.value, list) else [c.value]
        if any(isinstance(v, str) for v in vals):
            raise _bad(f"{raw}: metrics compare with numbers, not strings")
        return c
    vals = c.value if isinstance(c.value, list) else [c.value]
    if c.key in {"started_at", "ended_at"}:
        try:
            parsed = [datetime.fromisoformat(str(v).replace("Z", "+00:00")) for v in vals]
        except ValueError:
            raise _bad(f"{raw}: expected an ISO 8601 time such as '2026-11-25T10:00Z'") from None
        for time in parsed:
            problem = storable_problem(time)
            if problem:
                raise _bad(f"{raw}: {problem}")
        return Clause(c.kind, c.key, c.op, parsed if isinstance(c.value, list) else parsed[0])
    # Params and tags are strings; an unquoted number is read as the text the user typed.
    fixed = [v if isinstance(v, str) else _num_text(v) for v in vals]
    return Clause(c.kind, c.key, c.op, fixed if isinstance(c.value, list) else fixed[0])


def _num_text(v: float) -> str:
    return str(int(v)) if v.is_integer() else repr(v)


_COMPARATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "like": lambda c, v: c.like(v),
    "ilike": lambda c, v: c.ilike(v),
    "in": lambda c, v: c.in_(v),
    "not in": lambda c, v: c.not_in(v),
}


def _compare(column: Any, op: str, value: Any) -> ColumnElement[bool]:
    result: ColumnElement[bool] = _COMPARATORS[op](column, value)
    return result


def status_column(lost_before: datetime | None) -> Any:
    """A run's status as it is shown: ``lost`` for a running run whose last heartbeat (or
    start) is older than ``lost_before``."""
    R = schema.Run
    if lost_before is None:
        return R.status
    silent = func.coalesce(R.heartbeat_at, R.started_at) < lost_before
    return case((and_(R.status == "running", silent), "lost"), else_=R.status)


def _attribute(key: str, lost_before: datetime | None) -> Any:
    return status_column(lost_before) if key == "status" else _ATTRIBUTES[key]


def apply_filter(
    query: Select[Any], clauses: list[Clause], *, lost_before: datetime | None = None
) -> Select[Any]:
    R = schema.Run
    by_table: dict[Any, list[tuple[str, ColumnElement[bool]]]] = {}
    for c in clauses:
        if c.kind == "metrics":
            m = schema.LatestMetric
            by_table.setdefault(m, []).append((c.key, _metric_compare(m, c)))
        elif c.kind in {"params", "tags"}:
            t: Any = schema.RunParam if c.kind == "params" else schema.RunTag
            by_table.setdefault(t, []).append((c.key, _compare(t.value, c.op, c.value)))
        elif c.key == "environment":
            query = query.where(_compare(schema.Environment.name, c.op, c.value))
        elif c.key == "experiment":
            query = query.where(_compare(schema.Experiment.name, c.op, c.value))
        else:
            query = query.where(_compare(_attribute(c.key, lost_before), c.op, c.value))
    for table, conditions in by_table.items():
        query = query.where(_all_hold(R, table, conditions))
    return query


def _all_hold(run: Any, table: Any, conditions: list[tuple[str, ColumnElement[bool]]]) -> Any:
    """Whether the run's rows of ``table`` meet every (key, condition): one subquery per
    table, however many clauses, instead of a join or an EXISTS per clause (PostgreSQL took
    1.6 s to plan 20 of those). A run has one row per key, so each condition is met by at
    most one row, and the count of conditions met is their number exactly when all hold."""
    met = reduce(
        operator.add,
        (case((and_(table.key == key, cond), 1), else_=0) for key, cond in conditions),
    )
    count = (
        select(func.coalesce(func.sum(met), 0))
        .where(table.run_id == run.id, table.key.in_(sorted({k for k, _ in conditions})))
        .scalar_subquery()
    )
    return count == len(conditions)


def _metric_compare(m: Any, c: Clause) -> ColumnElement[bool]:
    import math

    def one(op: str, v: float) -> ColumnElement[bool]:
        if math.isnan(v):
            return m.is_nan.is_(True) if op in {"=", "in"} else m.is_nan.is_(False)  # type: ignore[no-any-return]
        return and_(m.is_nan.is_(False), _compare(m.value, op, v))

    if c.op in {"in", "not in"}:
        if c.op == "in":
            return or_(false(), *(one("=", v) for v in c.value))
        return and_(*(one("!=", v) for v in c.value))
    return one(c.op, float(c.value))


def parse_columns(columns: list[str] | None) -> dict[str, list[str]] | None:
    """``["metrics.auc", "params.depth"]`` as the keys of each kind; None stays None (every
    key). Attributes are not columns to choose: every run has them."""
    if columns is None:
        return None
    chosen: dict[str, list[str]] = {"metrics": [], "params": [], "tags": []}
    for column in columns:
        try:
            kind, key = _identifier(column.strip())
        except InvalidInput as exc:
            raise InvalidInput(
                "columns: " + exc.message.removeprefix("filter: "), details={"field": "columns"}
            ) from None
        if kind == "attributes":
            raise InvalidInput(
                f"columns: {column!r} is not a column to choose (every run has its "
                "attributes); name metrics.KEY, params.KEY or tags.KEY",
                details={"field": "columns"},
            )
        chosen[kind].append(key)
    return chosen


def order_keys(
    query: Select[Any], order_by: list[str], *, lost_before: datetime | None = None
) -> tuple[Select[Any], list[Key]]:
    """``query`` joined to what ``order_by`` sorts on, and the sort keys of a keyset walk:
    those of ``order_by``, then newest first, then the run id."""
    R = schema.Run
    keys: list[Key] = []
    for spec in order_by:
        parts = spec.strip().rsplit(None, 1)
        direction = "asc"
        if len(parts) == 2 and parts[1].lower() in {"asc", "desc"}:
            ident, direction = parts[0], parts[1].lower()
        else:
            ident = spec.strip()
        if not ident:
            raise InvalidInput("order_by: empty entry", details={"field": "order_by"})
        try:
            kind, key = _identifier(ident)
        except InvalidInput as exc:
            raise InvalidInput(
                "order_by: " + exc.message.removeprefix("filter: "), details={"field": "order_by"}
            ) from None
        column: Any
        if kind == "metrics":
            m = aliased(schema.LatestMetric)
            query = query.outerjoin(m, and_(m.run_id == R.id, m.key == key))
            column = m.value
        elif kind in {"params", "tags"}:
            t2: Any = aliased(schema.RunParam if kind == "params" else schema.RunTag)
            t = t2
            query = query.outerjoin(t, and_(t.run_id == R.id, t.key == key))
            column = t.value
        elif key == "environment":
            column = schema.Environment.name
        elif key == "experiment":
            column = schema.Experiment.name
        else:
            column = _attribute(key, lost_before)
        # Runs without the value sort last either way, as users expect.
        keys.append(Key(column, descending=direction == "desc", nullable=True))
    keys += [Key(R.started_at, descending=True), Key(R.id)]
    return query, keys


def base_query() -> Select[Any]:
    return (
        select(schema.Run)
        .join(schema.Experiment, schema.Run.experiment_id == schema.Experiment.id)
        .join(schema.Environment, schema.Run.environment_id == schema.Environment.id)
    )
