"""The filter of ``search_model_versions``, as MLflow writes it: ``name = 'churn' and
tags.team = 'risk'``. Versions of one workspace are few, so clauses are checked here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from modelwright.errors import InvalidInput
from modelwright.registry.models import ModelVersionInfo

__all__ = ["VersionClause", "matches", "parse_version_filter"]

_CLAUSE = re.compile(
    r"""\s*(?P<key>name|run_id|version|environment|tags?\.(?:`[^`]+`|[\w.\-/]+))
        \s*(?P<op>!=|=|(?:not\s+)?i?like)
        \s*(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\d+)
        \s*(?P<rest>(?:and\b)?)""",
    re.VERBOSE | re.IGNORECASE,
)
_KEYS = "name, run_id, version, environment or tags.KEY"


@dataclass(frozen=True)
class VersionClause:
    key: str  # name | run_id | version | environment | tags.KEY
    op: str  # = | != | like | ilike | not like | not ilike
    value: str


def _bad(message: str) -> InvalidInput:
    return InvalidInput(f"filter_string: {message}", details={"field": "filter_string"})


def parse_version_filter(text: str) -> list[VersionClause]:
    clauses: list[VersionClause] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _CLAUSE.match(text, pos)
        if m is None:
            raise _bad(
                f"cannot read {text[pos:].strip()[:40]!r}: expected clauses on {_KEYS} "
                "compared with =, !=, like or ilike and joined by 'and'"
            )
        key = m["key"]
        if key.lower().startswith("tag"):
            key = "tags." + key.partition(".")[2].strip("`")
        raw = m["value"]
        value = re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw[0] in "'\"" else raw
        clauses.append(
            VersionClause(key.lower() if "." not in key else key, m["op"].lower(), value)
        )
        pos = m.end()
        if not m["rest"] and pos < len(text):
            raise _bad(f"expected 'and' before {text[pos:].strip()[:40]!r}")
        if m["rest"] and pos >= len(text):
            raise _bad("ends with 'and'")
    return clauses


def _field(v: ModelVersionInfo, key: str) -> str | None:
    if key.startswith("tags."):
        return v.tags.get(key[5:])
    return {
        "name": v.name,
        "run_id": v.run_id,
        "version": str(v.version),
        "environment": v.environment,
    }[key]


def _like(value: str, pattern: str, fold: bool) -> bool:
    # SQL LIKE: % any run of characters, _ one character.
    glob = "".join(
        "*" if c == "%" else "?" if c == "_" else f"[{c}]" if c in "*?[" else c for c in pattern
    )
    return fnmatchcase(value.lower(), glob.lower()) if fold else fnmatchcase(value, glob)


def _holds(v: ModelVersionInfo, c: VersionClause) -> bool:
    got = _field(v, c.key)
    if got is None:
        return False
    if c.op == "=":
        return got == c.value
    if c.op == "!=":
        return got != c.value
    hit = _like(got, c.value, fold="ilike" in c.op)
    return not hit if c.op.startswith("not") else hit


def matches(v: ModelVersionInfo, clauses: list[VersionClause]) -> bool:
    return all(_holds(v, c) for c in clauses)
