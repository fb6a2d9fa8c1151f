"""Paginated lists over both backends and both databases: walking every page with a small
limit yields every row once and in order, a row inserted between two pages neither repeats
nor shifts a row out of the walk, a bad or foreign token is refused naming ``page_token``,
and a caller who may not see some rows still gets full pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pytest
from tests.conftest import Connector

from modelwright.client import Client
from modelwright.core.pages import PagedList
from modelwright.core.platform import LOCAL_ADMIN
from modelwright.errors import InvalidInput
from modelwright.workflows import start

T = TypeVar("T")


def walk(
    list_page: Callable[[str | None], PagedList[T]], token: str | None = None
) -> list[list[T]]:
    """Every page, following the tokens from ``token`` (the first page when None)."""
    pages: list[list[T]] = []
    while True:
        page = list_page(token)
        pages.append(list(page))
        token = page.next_page_token
        if token is None:
            return pages


def flat(pages: list[list[T]]) -> list[T]:
    return [item for page in pages for item in page]


def refuses(list_page: Callable[[str | None], Any], token: str) -> None:
    with pytest.raises(InvalidInput, match="page_token") as refused:
        list_page(token)
    assert refused.value.details == {"field": "page_token"}


def test_workspaces_come_by_name_a_page_at_a_time_and_members_get_full_pages(
    client: Client, connector: Connector
) -> None:
    for name in "bdfhj":
        client.create_workspace(name)

    def page(token: str | None) -> PagedList[Any]:
        return client.list_workspaces(page_token=token, limit=2)

    names = [[w.name for w in p] for p in walk(page)]
    assert names == [["b", "d"], ["f", "h"], ["j"]]
    assert [w.name for w in client.list_workspaces()] == ["b", "d", "f", "h", "j"]

    first = page(None)
    client.create_workspace("a")  # before the walk's position: not in the next pages
    client.create_workspace("e")  # after it: once
    rest = flat(walk(page, first.next_page_token))
    assert [w.name for w in [*first, *rest]] == ["b", "d", "e", "f", "h", "j"]

    client.create_principal("bob")
    for name in ("d", "h", "j"):
        client.grant("bob", "viewer", name)
    bob = connector.as_principal("bob")
    seen = walk(lambda t: bob.list_workspaces(page_token=t, limit=2))
    assert [[w.name for w in p] for p in seen] == [["d", "h"], ["j"]]

    refuses(page, "not a token")
    refuses(page, "")
    _job(connector, "b")
    _job(connector, "b")
    jobs_token = client.list_jobs(limit=1).next_page_token
    assert jobs_token is not None
    refuses(page, jobs_token)  # a token of another list


def _job(connector: Connector, workspace: str) -> int:
    with connector.platform.unit(connector.platform.caller(LOCAL_ADMIN)) as ctx:
        job_id = start(
            ctx.session,
            "test.pages",
            {},
            started_by=LOCAL_ADMIN,
            workspace=workspace,
            environment="dev",
        )
    assert job_id is not None
    return job_id


def test_jobs_come_newest_first_and_a_reader_of_one_workspace_gets_full_pages(
    client: Client, connector: Connector
) -> None:
    client.create_workspace("ml")
    client.create_workspace("other")
    ids = [_job(connector, "ml" if i % 2 else "other") for i in range(7)]

    def page(token: str | None) -> PagedList[Any]:
        return client.list_jobs(limit=3, page_token=token)

    pages = walk(page)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [j.id for j in flat(pages)] == sorted(ids, reverse=True)

    first = page(None)
    newer = _job(connector, "ml")  # newer than the walk's position: not in the next pages
    rest = flat(walk(page, first.next_page_token))
    assert [j.id for j in [*first, *rest]] == sorted(ids, reverse=True)
    assert newer not in [j.id for j in rest]

    client.create_principal("bob")
    client.grant("bob", "viewer", "ml")
    bob = connector.as_principal("bob")
    seen = walk(lambda t: bob.list_jobs(limit=2, page_token=t))
    mine = sorted([i for n, i in enumerate(ids) if n % 2] + [newer], reverse=True)
    assert [[j.id for j in p] for p in seen] == [mine[:2], mine[2:]]
    refuses(page, "%%%")


def test_the_audit_trail_comes_newest_first_a_page_at_a_time(
    client: Client, connector: Connector
) -> None:
    client.create_workspace("a")
    client.create_workspace("b")
    for n in range(4):
        client.create_principal(f"p{n}")
        client.grant(f"p{n}", "viewer", "a" if n % 2 else "b")
    everything = client.audit_events(limit=1000)
    assert everything.next_page_token is None

    def page(token: str | None) -> PagedList[Any]:
        return client.audit_events(limit=3, page_token=token)

    pages = walk(page)
    assert all(len(p) == 3 for p in pages[:-1])
    assert [e.id for e in flat(pages)] == [e.id for e in everything]

    first = page(None)
    client.create_principal("late")  # newer than the walk's position: not in the next pages
    rest = flat(walk(page, first.next_page_token))
    assert [e.id for e in [*first, *rest]] == [e.id for e in everything]

    # An approver of workspace a reads only a's events: their pages are full all the same.
    client.create_principal("carol")
    client.grant("carol", "approver", "a")
    carol = connector.as_principal("carol")
    theirs = client.audit_events(workspace="a", limit=1000)
    seen = walk(lambda t: carol.audit_events(limit=2, page_token=t))
    assert all(len(p) == 2 for p in seen[:-1])
    assert [e.id for e in flat(seen)] == [e.id for e in theirs]
    refuses(page, "e30")  # "{}": JSON, but not a token


def test_run_search_walks_any_order_with_runs_lacking_the_value_last(client: Client) -> None:
    client.create_workspace("ml")
    for n, auc in enumerate([0.7, None, 0.9, 0.7, None, 0.8, float("nan")]):
        with client.start_run("churn", workspace="ml", name=f"r{n}", snapshot=False) as run:
            if auc is not None:
                run.log_metric("auc", auc)
    order = ["metrics.auc DESC", "name"]
    everything = client.search_runs(workspace="ml", order_by=order)

    def page(token: str | None) -> PagedList[Any]:
        return client.search_runs(workspace="ml", order_by=order, max_results=2, page_token=token)

    pages = walk(page)
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert [r.id for r in flat(pages)] == [r.id for r in everything]
    assert [r.name for r in everything][-2:] == ["r1", "r4"]

    first = page(None)
    with client.start_run("churn", workspace="ml", name="late", snapshot=False) as run:
        run.log_metric("auc", 0.95)  # sorts before the walk's position: not in the next pages
    rest = flat(walk(page, first.next_page_token))
    assert [r.id for r in [*first, *rest]] == [r.id for r in everything]

    newest = client.search_runs(workspace="ml", max_results=2)
    assert newest.next_page_token is not None
    refuses(page, newest.next_page_token)  # a token of another ordering


class Times:
    """A plain Python model; each factor makes another version."""

    def __init__(self, k: float) -> None:
        self.k = k

    def predict(self, data: pd.DataFrame) -> Any:
        return data["tenure"].to_numpy() * self.k


def test_model_versions_and_alias_history_come_oldest_first(client: Client) -> None:
    client.create_workspace("ml")
    example = pd.DataFrame({"tenure": [1.0, 2.0]})
    with client.start_run("churn", workspace="ml", snapshot=False) as run:
        for k in range(5):
            run.log_model(Times(k), name="churn", input_example=example)

    def versions(token: str | None) -> PagedList[Any]:
        return client.model_versions("churn", workspace="ml", limit=2, page_token=token)

    pages = walk(versions)
    assert [[v.version for v in p] for p in pages] == [[1, 2], [3, 4], [5]]
    assert [v.version for v in client.model_versions("churn", workspace="ml")] == [1, 2, 3, 4, 5]

    for version in (1, 2, 3, 4, 5):
        client.set_alias("churn", "champion", version, workspace="ml")

    def history(token: str | None) -> PagedList[Any]:
        return client.alias_history("churn", workspace="ml", limit=2, page_token=token)

    first = history(None)
    client.set_alias("churn", "challenger", 1, workspace="ml")  # after the position: once
    moves = [(e.alias, e.to_version) for e in [*first, *flat(walk(history, first.next_page_token))]]
    assert moves == [*(("champion", v) for v in (1, 2, 3, 4, 5)), ("challenger", 1)]
    assert [(e.alias, e.to_version) for e in client.alias_history("churn", workspace="ml")] == moves
    refuses(versions, first.next_page_token or "")


def test_endpoints_and_datasets_come_by_environment_and_name(
    client: Client, tmp_path: Path
) -> None:
    client.create_workspace("ml")
    client.create_datastore("ml", "dev", "lake", str(tmp_path / "lake"))
    for name in ("e", "a", "c", "b", "d"):
        client.create_endpoint(name, workspace="ml", environment="dev")
        client.register_dataset(
            name, pd.DataFrame({"x": [1.0, 2.0]}), workspace="ml", environment="dev"
        )
    client.register_dataset("a", pd.DataFrame({"x": [3.0]}), workspace="ml", environment="dev")

    def endpoints(token: str | None) -> PagedList[Any]:
        return client.list_endpoints(workspace="ml", environment="dev", page_token=token, limit=2)

    def datasets(token: str | None) -> PagedList[Any]:
        return client.list_datasets(workspace="ml", environment="dev", page_token=token, limit=2)

    assert [[e.name for e in p] for p in walk(endpoints)] == [["a", "b"], ["c", "d"], ["e"]]
    assert [e.name for e in client.list_endpoints(workspace="ml")] == ["a", "b", "c", "d", "e"]
    pages = walk(datasets)
    assert [[d.name for d in p] for p in pages] == [["a", "b"], ["c", "d"], ["e"]]
    # The latest version and the count are read for each page's own datasets.
    assert [(d.name, d.versions, d.latest and d.latest.version) for d in pages[0]] == [
        ("a", 2, 2),
        ("b", 1, 1),
    ]
    refuses(datasets, endpoints(None).next_page_token or "")  # another list's token
