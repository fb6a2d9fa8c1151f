from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelwright.errors import InvalidInput
from modelwright.tracking.search import Clause, parse_filter


def test_parses_clauses() -> None:
    assert parse_filter(
        "metrics.auc >= 0.8 AND params.depth = '5' and tags.`my tag` != \"a b\""
    ) == [
        Clause("metrics", "auc", ">=", 0.8),
        Clause("params", "depth", "=", "5"),
        Clause("tags", "my tag", "!=", "a b"),
    ]
    assert parse_filter("status in ('finished', 'failed')") == [
        Clause("attributes", "status", "in", ["finished", "failed"])
    ]
    assert parse_filter("params.lr = 0.1") == [Clause("params", "lr", "=", "0.1")]
    assert parse_filter("started_at > '2026-01-01T00:00Z'") == [
        Clause("attributes", "started_at", ">", datetime(2026, 1, 1, tzinfo=UTC))
    ]
    assert parse_filter("  ") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.auc", "ends too early"),
        ("metrics.auc ~ 1", "cannot read"),
        ("'x' = 1", "expected a name"),
        ("metrics.auc like 'a%'", "metrics compare with"),
        ("name in 'a'", r"expected '\('"),
        ("started_at > 'yesterday'", "ISO 8601"),
    ],
)
def test_reports_problems(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        parse_filter(text)
    assert info.value.message.startswith("filter: ")
