"""How a run search reaches the database: a bounded number of clauses, one subquery per table
however many clauses, and exactly the runs that meet every clause, on both backends and both
databases."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import pytest

from modelwright.client import Client
from modelwright.errors import InvalidInput, NotFound
from modelwright.tracking.search import MAX_CLAUSES, apply_filter, base_query, parse_filter


def test_a_filter_has_at_most_fifty_clauses() -> None:
    clauses = [f"params.p{i} = 'x'" for i in range(MAX_CLAUSES + 1)]
    assert len(parse_filter(" and ".join(clauses[:MAX_CLAUSES]))) == MAX_CLAUSES
    with pytest.raises(InvalidInput) as info:
        parse_filter(" AND ".join(clauses))
    assert info.value.message == "filter: at most 50 clauses may be joined by 'and' (got 51)"
    assert info.value.details == {"field": "filter"}
    # 'and' inside a quoted value is not a clause.
    assert len(parse_filter(" and ".join([*clauses[:49], "name = 'a and b and c'"]))) == 50


def test_twenty_clauses_are_one_subquery_per_table_not_a_join_each() -> None:
    text = " and ".join(
        [f"metrics.m{i} > 0.5" for i in range(7)]
        + [f"params.p{i} != '0'" for i in range(7)]
        + [f"tags.t{i} in ('x', 'y')" for i in range(6)]
    )
    sql = str(apply_filter(base_query(), parse_filter(text)))
    # The two joins are the run's experiment and environment, there for every search.
    assert sql.count("JOIN") == 2
    assert sql.count("FROM run_latest_metrics") == 1
    assert sql.count("FROM run_params") == 1
    assert sql.count("FROM run_tags") == 1


@pytest.fixture
def runs(client: Client) -> dict[str, dict[str, Any]]:
    """Six runs whose params, tags and metrics differ by key and value (one metric NaN)."""
    client.create_workspace("ml")
    table: dict[str, dict[str, Any]] = {
        "a": {
            "params": {"depth": "3", "lr": "0.1"},
            "tags": {"team": "x"},
            "metrics": {"auc": 0.7},
        },
        "b": {
            "params": {"depth": "5"},
            "tags": {"team": "y"},
            "metrics": {"auc": 0.9, "loss": 0.2},
        },
        "c": {"params": {"depth": "5", "lr": "0.2"}, "tags": {}, "metrics": {"auc": 0.85}},
        "d": {"params": {}, "tags": {"team": "x", "kind": "k"}, "metrics": {"loss": math.nan}},
        "e": {"params": {"depth": "7", "lr": "0.1"}, "tags": {"team": "y"}, "metrics": {}},
        "f": {
            "params": {"depth": "3"},
            "tags": {"kind": "k"},
            "metrics": {"auc": 0.95, "loss": 1.0},
        },
    }
    for name, row in table.items():
        with client.start_run("exp", workspace="ml", name=name, tags=row["tags"]) as run:
            run.log_params(row["params"])
            for key, value in row["metrics"].items():
                run.log_metric(key, value)
    return table


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    "in": lambda v, values: v in values,
    "not in": lambda v, values: v not in values,
}


def _expected(
    runs: dict[str, dict[str, Any]], clauses: list[tuple[str, str, str, Any]]
) -> set[str]:
    """The runs that have every clause's key with a value that meets it (NaN meets only '=')."""

    def meets(row: dict[str, Any], kind: str, key: str, op: str, value: Any) -> bool:
        if key not in row[kind]:
            return False
        got = row[kind][key]
        if isinstance(got, float) and math.isnan(got):
            return False
        return _OPS[op](got, value)

    return {name for name, row in runs.items() if all(meets(row, *c) for c in clauses)}


@pytest.mark.parametrize(
    "clauses",
    [
        [("params", "depth", "=", "5")],
        [("params", "depth", "!=", "3"), ("params", "lr", "=", "0.1")],
        # The same key twice: a row meets both or the run is out.
        [("metrics", "auc", ">", 0.75), ("metrics", "auc", "<", 0.92)],
        [("metrics", "auc", ">", 0.6), ("metrics", "loss", "<", 0.5), ("tags", "team", "=", "y")],
        # A missing key never matches, even with '!=' or 'not in'.
        [("tags", "team", "!=", "z"), ("tags", "kind", "not in", ["q"])],
        [("metrics", "loss", "!=", 0.2)],
        [
            ("params", "depth", "in", ["3", "5", "7"]),
            ("params", "lr", "in", ["0.1", "0.2"]),
            ("tags", "team", "in", ["x", "y"]),
            ("metrics", "auc", ">", 0.0),
        ],
        [("params", "depth", "=", "3"), ("params", "depth", "=", "5")],
    ],
)
def test_runs_meeting_every_clause_and_only_those_are_found(
    client: Client, runs: dict[str, dict[str, Any]], clauses: list[tuple[str, str, str, Any]]
) -> None:
    def literal(value: Any) -> str:
        if isinstance(value, list):
            return "(" + ", ".join(literal(v) for v in value) + ")"
        return repr(value)

    text = " and ".join(f"{kind}.{key} {op} {literal(value)}" for kind, key, op, value in clauses)
    found = {r.name for r in client.search_runs(text, workspace="ml")}
    assert found == _expected(runs, clauses), text


def test_nan_metrics_are_found_with_equals_nan_only(
    client: Client, runs: dict[str, dict[str, Any]]
) -> None:
    assert {r.name for r in client.search_runs("metrics.loss = nan", workspace="ml")} == {"d"}
    assert {r.name for r in client.search_runs("metrics.loss != nan", workspace="ml")} == {"b", "f"}


def test_fifty_clauses_are_searched_and_fifty_one_are_refused(
    client: Client, runs: dict[str, dict[str, Any]]
) -> None:
    fifty = " and ".join(["params.depth != '0'", "metrics.auc > 0.8"] * 25)
    assert {r.name for r in client.search_runs(fifty, workspace="ml")} == {"b", "c", "f"}
    with pytest.raises(InvalidInput, match=r"at most 50 clauses may be joined by 'and' \(got 51\)"):
        client.search_runs(fifty + " and name = 'b'", workspace="ml")


def test_at_most_ten_sort_keys(client: Client, runs: dict[str, dict[str, Any]]) -> None:
    assert len(client.search_runs("", workspace="ml", order_by=["name"] * 10)) == 6
    with pytest.raises(InvalidInput, match="order_by: List should have at most 10 items"):
        client.search_runs("", workspace="ml", order_by=["name"] * 11)


def test_an_unknown_environment_is_named_not_an_empty_page(
    client: Client, runs: dict[str, dict[str, Any]]
) -> None:
    assert len(client.search_runs(workspace="ml", environment="dev")) == len(runs)
    with pytest.raises(
        NotFound, match=r"environment 'dve' not found in workspace 'ml' \(it has: dev"
    ):
        client.search_runs(workspace="ml", environment="dve")


def test_a_runs_children_are_found_by_parent_id(
    client: Client, runs: dict[str, dict[str, Any]]
) -> None:
    with client.start_run("nest", workspace="ml", snapshot=False) as parent:
        for name in ("left", "right"):
            with client.start_run(
                "nest", workspace="ml", name=name, parent_id=parent.id, snapshot=False
            ):
                pass
    children = client.search_runs(f"parent_id = '{parent.id}'", workspace="ml")
    assert sorted(r.name for r in children) == ["left", "right"]
    leaf = children[0].id
    assert list(client.search_runs(f"attributes.parent_id = '{leaf}'", workspace="ml")) == []
